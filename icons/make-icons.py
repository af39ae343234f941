#!/usr/bin/env python3
"""Draws Presently's app icon at the sizes Tauri bundles, with nothing but the
standard library: a rounded square in Teams purple, a person, and a green
"available" dot with a check. Run it from this folder to regenerate: it
writes the PNGs, and from them Windows' icon.ico and macOS's icon.icns."""
import math
import struct
import zlib


def png(size, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * size * 4:(y + 1) * size * 4]) for y in range(size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def cover(d):
    return max(0.0, min(1.0, 0.5 - d))


def rounded_square(x, y, s, radius):
    qx, qy = abs(x - s / 2) - (s / 2 - radius), abs(y - s / 2) - (s / 2 - radius)
    return math.hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - radius


def segment(px, py, ax, ay, bx, by):
    abx, aby, apx, apy = bx - ax, by - ay, px - ax, py - ay
    t = max(0.0, min(1.0, (apx * abx + apy * aby) / (abx * abx + aby * aby)))
    return math.hypot(apx - t * abx, apy - t * aby)


def draw(size):
    s = float(size)
    out = [0] * (size * size * 4)
    for j in range(size):
        for i in range(size):
            x, y = i + 0.5, j + 0.5
            layers = []
            # Background: Teams purple, lighter at the top.
            t = y / s
            bg = (int(0x5B + (0x46 - 0x5B) * t), int(0x5F + (0x47 - 0x5F) * t), int(0xC7 + (0x9E - 0xC7) * t))
            layers.append((bg, cover(rounded_square(x, y, s, s * 0.22))))
            # A person: head and shoulders, in white.
            head = math.hypot(x - s * 0.42, y - s * 0.36) - s * 0.14
            body = max(math.hypot(x - s * 0.42, y - s * 0.86) - s * 0.27, y - s * 0.80)
            layers.append(((255, 255, 255), max(cover(head), cover(body))))
            # The "available" dot with a ring of background around it.
            cx, cy, r = s * 0.72, s * 0.72, s * 0.19
            d = math.hypot(x - cx, y - cy)
            layers.append((bg, cover(d - r - s * 0.05)))
            layers.append(((0x6B, 0xB7, 0x00), cover(d - r)))
            stroke = s * 0.035
            check = min(segment(x, y, cx - r * 0.45, cy + r * 0.02, cx - r * 0.1, cy + r * 0.38),
                        segment(x, y, cx - r * 0.1, cy + r * 0.38, cx + r * 0.48, cy - r * 0.3))
            layers.append(((255, 255, 255), cover(check - stroke) * cover(d - r)))
            rgb, alpha = [0.0, 0.0, 0.0], 0.0
            for colour, a in layers:
                a = a * layers[0][1]  # everything stays inside the square
                for k in range(3):
                    rgb[k] = rgb[k] * (1 - a) + colour[k] * a
                alpha = alpha * (1 - a) + a
            k = (j * size + i) * 4
            if alpha > 0:
                out[k:k + 4] = [round(min(255, rgb[0] / alpha)),
                                round(min(255, rgb[1] / alpha)), round(min(255, rgb[2] / alpha)), round(alpha * 255)]
    return out



def bmp_entry(size, pixels):
    """An icon image in the BMP form (BITMAPINFOHEADER, 32-bit BGRA rows
    bottom-up, then the 1-bit AND mask): what every Windows version reads
    at the small sizes."""
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    rows, mask = [], []
    stride = ((size + 31) // 32) * 4
    for y in reversed(range(size)):
        row = pixels[y * size * 4:(y + 1) * size * 4]
        rows.append(b"".join(bytes((row[i + 2], row[i + 1], row[i], row[i + 3])) for i in range(0, len(row), 4)))
        bits = bytearray(stride)
        for x in range(size):
            if row[x * 4 + 3] == 0:
                bits[x // 8] |= 0x80 >> (x % 8)
        mask.append(bytes(bits))
    return header + b"".join(rows) + b"".join(mask)


def ico(images):
    """Windows' .ico: (size, data) pairs, data a PNG (256) or a BMP entry."""
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for size, data in images:
        side = 0 if size >= 256 else size
        out += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return out + b"".join(data for _, data in images)


def icns(entries):
    """macOS's .icns: (type, PNG) pairs."""
    body = b"".join(kind + struct.pack(">I", len(data) + 8) + data for kind, data in entries)
    return b"icns" + struct.pack(">I", len(body) + 8) + body


# The PNGs Tauri bundles on Linux, and the source of the Windows and macOS
# icons: icon.ico (tauri-build embeds it in the .exe, and the installers use
# it) and icon.icns (the .app), whose entries are these same PNGs wherever a
# size is shared, and drawings of the same picture elsewhere.
pngs = {size: png(size, draw(size)) for size in (16, 32, 64, 128, 256, 512, 1024)}
for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
    with open(name, "wb") as f:
        f.write(pngs[size])
with open("icon.ico", "wb") as f:
    f.write(ico([(size, bmp_entry(size, draw(size))) for size in (16, 24, 32, 48, 64, 128)] + [(256, pngs[256])]))
with open("icon.icns", "wb") as f:
    f.write(icns([(b"icp4", pngs[16]), (b"icp5", pngs[32]), (b"icp6", pngs[64]), (b"ic07", pngs[128]),
                  (b"ic08", pngs[256]), (b"ic09", pngs[512]), (b"ic10", pngs[1024]), (b"ic11", pngs[32]),
                  (b"ic12", pngs[64]), (b"ic13", pngs[256]), (b"ic14", pngs[1024])]))
