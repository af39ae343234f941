#!/usr/bin/python3
"""The desktop around the tray app, for the end-to-end tests: a
StatusNotifierWatcher (what a panel runs, and what CI lacks), a panel's view
of the tray item and its menu, and a window manager's close button.

    tray_host.py watcher          own org.kde.StatusNotifierWatcher until killed
    tray_host.py item             the registered item's properties (JSON)
    tray_host.py icon             the item's icon: name, size, RGBA as hex (JSON)
    tray_host.py menu             the top level of the item's menu (JSON)
    tray_host.py click ID         what a panel sends when a menu entry is clicked
    tray_host.py windows PID      top-level windows of process PID (JSON)
    tray_host.py close PID        the close button on PID's window named "Presently"

Reads the session bus and display from the environment. Needs Debian's
python3-gi and libX11 only; run it with /usr/bin/python3.
"""

import ctypes
import ctypes.util
import json
import os
import struct
import sys
import time
import zlib

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"
DBUSMENU = "com.canonical.dbusmenu"

WATCHER_XML = """
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem"><arg name="service" type="s" direction="in"/></method>
    <method name="RegisterStatusNotifierHost"><arg name="service" type="s" direction="in"/></method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
  </interface>
</node>
"""


def watcher():
    """Keeps a list of registered items, as "bus-name/object/path", and
    forgets an item when its owner leaves the bus."""
    node = Gio.DBusNodeInfo.new_for_xml(WATCHER_XML)
    items = []
    loop = GLib.MainLoop()

    def emit(conn, signal, item):
        conn.emit_signal(None, WATCHER_PATH, WATCHER, signal, GLib.Variant("(s)", (item,)))

    def on_call(conn, sender, path, iface, method, params, invocation):
        if method == "RegisterStatusNotifierItem":
            (service,) = params.unpack()
            # The spec passes a bus name; libappindicator passes its path.
            if service.startswith("/"):
                item = sender + service
            else:
                item = service + "/StatusNotifierItem"
            if item not in items:
                items.append(item)
            emit(conn, "StatusNotifierItemRegistered", item)
        invocation.return_value(None)

    def on_get(conn, sender, path, iface, prop):
        return {
            "RegisteredStatusNotifierItems": GLib.Variant("as", items),
            "IsStatusNotifierHostRegistered": GLib.Variant("b", True),
            "ProtocolVersion": GLib.Variant("i", 0),
        }[prop]

    def on_owner_changed(conn, sender, path, iface, signal, params):
        name, _old, new = params.unpack()
        if new:
            return
        for item in [i for i in items if i.split("/", 1)[0] == name]:
            items.remove(item)
            emit(conn, "StatusNotifierItemUnregistered", item)

    def on_bus(conn, _name):
        conn.register_object(WATCHER_PATH, node.interfaces[0], on_call, on_get, None)
        conn.signal_subscribe(
            "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
            "/org/freedesktop/DBus", None, Gio.DBusSignalFlags.NONE, on_owner_changed,
        )

    Gio.bus_own_name(
        Gio.BusType.SESSION, WATCHER, Gio.BusNameOwnerFlags.DO_NOT_QUEUE,
        on_bus, None, lambda *_: loop.quit(),
    )
    loop.run()


def bus():
    return Gio.bus_get_sync(Gio.BusType.SESSION, None)


def call(conn, name, path, iface, method, args, reply):
    return conn.call_sync(
        name, path, iface, method, args, GLib.VariantType.new(reply),
        Gio.DBusCallFlags.NONE, 5000, None,
    ).unpack()


def the_item(conn):
    """(bus name, object path) of the one registered item; exits 3 if none."""
    (items,) = call(
        conn, WATCHER, WATCHER_PATH, "org.freedesktop.DBus.Properties", "Get",
        GLib.Variant("(ss)", (WATCHER, "RegisteredStatusNotifierItems")), "(v)",
    )
    if not items:
        sys.exit(3)
    name, path = items[-1].split("/", 1)
    return name, "/" + path


def properties(conn):
    name, path = the_item(conn)
    (props,) = call(
        conn, name, path, "org.freedesktop.DBus.Properties", "GetAll",
        GLib.Variant("(s)", (ITEM,)), "(a{sv})",
    )
    return name, path, props


def item():
    conn = bus()
    name, path, props = properties(conn)
    shown = {k: v for k, v in props.items() if isinstance(v, (str, int, bool))}
    print(json.dumps({"bus": name, "path": path, "properties": shown}))


def read_png(path):
    """RGBA rows of an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unsupported PNG"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    channels = 4 if colour == 6 else 3
    stride = width * channels
    raw = zlib.decompress(idat)
    out, previous = bytearray(), bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = previous[x]
            c = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                nearest = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + nearest) & 0xFF
        previous = line
        if channels == 4:
            out += line
        else:
            for x in range(width):
                out += line[x * 3:x * 3 + 3] + b"\xff"
    return width, height, bytes(out)


def icon():
    """The picture a panel would show: IconName is a file, or a name looked
    up in IconThemePath (libappindicator publishes no pixmaps)."""
    conn = bus()
    for _ in range(10):
        _, _, props = properties(conn)
        name, theme = props.get("IconName", ""), props.get("IconThemePath", "")
        path = name if name.startswith("/") else os.path.join(theme, name + ".png")
        try:
            width, height, rgba = read_png(path)
        except FileNotFoundError:
            # Replaced between reading the name and the file: read again.
            time.sleep(0.05)
            continue
        print(json.dumps({"name": name, "width": width, "height": height, "rgba": rgba.hex()}))
        return
    sys.exit(4)


def menu_path(conn):
    name, _, props = properties(conn)
    return name, props["Menu"]


def menu():
    conn = bus()
    name, path = menu_path(conn)
    revision, (_root, _props, children) = call(
        conn, name, path, DBUSMENU, "GetLayout",
        GLib.Variant("(iias)", (0, -1, [])), "(u(ia{sv}av))",
    )
    entries = []

    def add(items, parent):
        # Each item is (id, properties, children); a submenu's entries come
        # after it, with its label as their parent.
        for ident, props, kids in items:
            label = props.get("label", "")
            entries.append({
                "id": ident,
                "label": label,
                "type": props.get("type", "standard"),
                "enabled": props.get("enabled", True),
                "visible": props.get("visible", True),
                "parent": parent,
            })
            add(kids, label)

    add(children, None)
    print(json.dumps({"revision": revision, "entries": entries}))


def click(ident):
    conn = bus()
    name, path = menu_path(conn)
    call(
        conn, name, path, DBUSMENU, "Event",
        GLib.Variant("(isvu)", (ident, "clicked", GLib.Variant("i", 0), int(time.time()))),
        "()",
    )


# X11, through libX11 itself: no window manager runs in the test session.
class XWindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int), ("y", ctypes.c_int),
        ("width", ctypes.c_int), ("height", ctypes.c_int),
        ("border_width", ctypes.c_int), ("depth", ctypes.c_int),
        ("visual", ctypes.c_void_p), ("root", ctypes.c_ulong),
        ("class_", ctypes.c_int), ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int), ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong), ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int), ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int), ("map_state", ctypes.c_int),
        ("all_event_masks", ctypes.c_long), ("your_event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long), ("override_redirect", ctypes.c_int),
        ("screen", ctypes.c_void_p),
    ]


class XClientMessageEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int), ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int), ("data", ctypes.c_long * 5),
    ]


class XEvent(ctypes.Union):
    _fields_ = [("xclient", XClientMessageEvent), ("pad", ctypes.c_long * 24)]


IS_VIEWABLE = 2
CLIENT_MESSAGE = 33


def xlib():
    x = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XDefaultRootWindow.restype = ctypes.c_ulong
    x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XQueryTree.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
        ctypes.POINTER(ctypes.c_uint),
    ]
    x.XGetWindowProperty.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long,
        ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_void_p),
    ]
    x.XGetWindowAttributes.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(XWindowAttributes),
    ]
    x.XSendEvent.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.POINTER(XEvent),
    ]
    x.XFree.argtypes = [ctypes.c_void_p]
    x.XFlush.argtypes = [ctypes.c_void_p]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x.XOpenDisplay(None)
    if not display:
        sys.exit("no X display")
    return x, display


def x_property(x, display, window, name):
    """The property's raw bytes (32-bit items come as C longs) and format."""
    atom = x.XInternAtom(display, name.encode(), 0)
    kind, fmt = ctypes.c_ulong(), ctypes.c_int()
    count, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
    status = x.XGetWindowProperty(
        display, window, atom, 0, 1024, 0, 0, ctypes.byref(kind), ctypes.byref(fmt),
        ctypes.byref(count), ctypes.byref(after), ctypes.byref(data),
    )
    if status != 0 or not data.value:
        return None, 0
    size = {8: 1, 16: ctypes.sizeof(ctypes.c_short), 32: ctypes.sizeof(ctypes.c_long)}[fmt.value]
    raw = ctypes.string_at(data.value, count.value * size)
    x.XFree(data)
    return raw, fmt.value


def all_windows(x, display, window):
    root, parent = ctypes.c_ulong(), ctypes.c_ulong()
    children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
    if not x.XQueryTree(display, window, ctypes.byref(root), ctypes.byref(parent),
                        ctypes.byref(children), ctypes.byref(count)):
        return []
    kids = [children[i] for i in range(count.value)]
    if children:
        x.XFree(children)
    found = []
    for kid in kids:
        found.append(kid)
        found += all_windows(x, display, kid)
    return found


def windows_of(x, display, pid):
    found = []
    for window in all_windows(x, display, x.XDefaultRootWindow(display)):
        raw, fmt = x_property(x, display, window, "_NET_WM_PID")
        if raw is None or fmt != 32 or ctypes.c_long.from_buffer_copy(raw).value != pid:
            continue
        name, _ = x_property(x, display, window, "_NET_WM_NAME")
        if name is None:
            name, _ = x_property(x, display, window, "WM_NAME")
        attributes = XWindowAttributes()
        x.XGetWindowAttributes(display, window, ctypes.byref(attributes))
        found.append({
            "id": window,
            "name": (name or b"").decode("utf-8", "replace"),
            "viewable": attributes.map_state == IS_VIEWABLE,
        })
    return found


def windows(pid):
    x, display = xlib()
    print(json.dumps(windows_of(x, display, pid)))
    x.XCloseDisplay(display)


def close(pid):
    """WM_DELETE_WINDOW, as a window manager sends for its close button."""
    x, display = xlib()
    targets = [w for w in windows_of(x, display, pid) if w["name"] == "Presently" and w["viewable"]]
    if not targets:
        sys.exit("no shown window named Presently")
    for window in targets:
        event = XEvent()
        event.xclient.type = CLIENT_MESSAGE
        event.xclient.window = window["id"]
        event.xclient.message_type = x.XInternAtom(display, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = x.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
        event.xclient.data[1] = 0  # CurrentTime
        x.XSendEvent(display, window["id"], 0, 0, ctypes.byref(event))
    x.XFlush(display)
    x.XCloseDisplay(display)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    try:
        if command == "watcher":
            watcher()
        elif command == "item":
            item()
        elif command == "icon":
            icon()
        elif command == "menu":
            menu()
        elif command == "click":
            click(int(args[0]))
        elif command == "windows":
            windows(int(args[0]))
        elif command == "close":
            close(int(args[0]))
        else:
            sys.exit(f"unknown command {command}")
    except GLib.Error as e:
        sys.exit(f"D-Bus: {e.message}")


if __name__ == "__main__":
    main()
