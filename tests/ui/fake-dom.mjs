// Just enough of a DOM to run ui/main.js under `node --test`, with nothing to
// install: ui/index.html parsed as it ships, elements, text nodes, events
// that capture and bubble, focus, `hidden`, dialogs and a small selector
// engine. What a page would show is approximated by `hidden`, closed
// dialogs and disabled controls; there is no layout and no CSS.
//
// It has no innerHTML or any other way to turn a string into markup, so text
// that reached the page as text is all that a test can find there.

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
const HTML_NS = 'http://www.w3.org/1999/xhtml';

function decode(text) {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === '#') return String.fromCodePoint(name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1)));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

// ------------------------------------------------------------------ events

export class FakeEvent {
  constructor(type, init = {}) {
    this.type = type;
    this.bubbles = Boolean(init.bubbles);
    this.cancelable = init.cancelable !== false;
    this.key = init.key ?? '';
    this.shiftKey = Boolean(init.shiftKey);
    this.ctrlKey = Boolean(init.ctrlKey);
    this.metaKey = Boolean(init.metaKey);
    this.defaultPrevented = false;
    this.target = null;
    this.currentTarget = null;
    this.stopped = false;
    this.stoppedNow = false;
  }

  preventDefault() {
    if (this.cancelable) this.defaultPrevented = true;
  }

  stopPropagation() {
    this.stopped = true;
  }

  stopImmediatePropagation() {
    this.stopped = true;
    this.stoppedNow = true;
  }
}

class Target {
  constructor() {
    this.listeners = [];
  }

  addEventListener(type, handler, options) {
    const capture = typeof options === 'boolean' ? options : Boolean(options?.capture);
    if (!this.listeners.some((l) => l.type === type && l.handler === handler && l.capture === capture)) {
      this.listeners.push({ type, handler, capture });
    }
  }

  removeEventListener(type, handler, options) {
    const capture = typeof options === 'boolean' ? options : Boolean(options?.capture);
    this.listeners = this.listeners.filter((l) => !(l.type === type && l.handler === handler && l.capture === capture));
  }

  fire(event, phase) {
    event.currentTarget = this;
    for (const l of [...this.listeners]) {
      if (l.type !== event.type) continue;
      if (phase === 'capture' && !l.capture) continue;
      if (phase === 'bubble' && l.capture) continue;
      l.handler.call(this, event);
      if (event.stoppedNow) break;
    }
  }

  /** Capture from the top, the target, then bubbling back up. */
  dispatchEvent(event) {
    event.target = this;
    const path = [];
    for (let n = this.parentNode; n; n = n.parentNode) path.push(n);
    for (const n of [...path].reverse()) {
      if (event.stopped) break;
      n.fire(event, 'capture');
    }
    if (!event.stopped) this.fire(event, 'target');
    if (event.bubbles) {
      for (const n of path) {
        if (event.stopped) break;
        n.fire(event, 'bubble');
      }
    }
    event.currentTarget = null;
    return !event.defaultPrevented;
  }
}

// ------------------------------------------------------------------ nodes

class Node extends Target {
  constructor(doc) {
    super();
    this.ownerDocument = doc;
    this.parentNode = null;
    this.childNodes = [];
  }

  get parentElement() {
    return this.parentNode instanceof Element ? this.parentNode : null;
  }

  get isConnected() {
    let n = this;
    while (n.parentNode) n = n.parentNode;
    return n === this.ownerDocument;
  }

  get firstChild() {
    return this.childNodes[0] ?? null;
  }

  get children() {
    return this.childNodes.filter((n) => n instanceof Element);
  }

  get firstElementChild() {
    return this.children[0] ?? null;
  }

  get lastElementChild() {
    const list = this.children;
    return list[list.length - 1] ?? null;
  }

  siblingElement(step) {
    const list = this.parentNode?.children ?? [];
    return list[list.indexOf(this) + step] ?? null;
  }

  get nextElementSibling() {
    return this.siblingElement(1);
  }

  get previousElementSibling() {
    return this.siblingElement(-1);
  }

  get textContent() {
    return this.childNodes.map((n) => n.textContent).join('');
  }

  set textContent(value) {
    this.replaceChildren(...(value == null || value === '' ? [] : [String(value)]));
  }

  adopt(child) {
    const node = typeof child === 'string' ? this.ownerDocument.createTextNode(child) : child;
    node.remove();
    node.parentNode = this;
    return node;
  }

  append(...nodes) {
    for (const n of nodes) this.childNodes.push(this.adopt(n));
  }

  appendChild(node) {
    this.append(node);
    return node;
  }

  prepend(...nodes) {
    this.childNodes.unshift(...nodes.map((n) => this.adopt(n)));
  }

  insertBefore(node, ref) {
    if (!ref) return this.appendChild(node);
    const adopted = this.adopt(node);
    this.childNodes.splice(this.childNodes.indexOf(ref), 0, adopted);
    return adopted;
  }

  replaceChildren(...nodes) {
    for (const n of this.childNodes) n.parentNode = null;
    this.childNodes = [];
    this.append(...nodes);
  }

  remove() {
    const parent = this.parentNode;
    if (!parent) return;
    parent.childNodes.splice(parent.childNodes.indexOf(this), 1);
    this.parentNode = null;
  }

  replaceWith(...nodes) {
    const parent = this.parentNode;
    if (!parent) return;
    const adopted = nodes.map((n) => parent.adopt(n));
    parent.childNodes.splice(parent.childNodes.indexOf(this), 1, ...adopted);
    this.parentNode = null;
  }

  contains(other) {
    for (let n = other; n; n = n.parentNode) if (n === this) return true;
    return false;
  }

  *descendants() {
    for (const child of this.childNodes) {
      if (!(child instanceof Element)) continue;
      yield child;
      yield* child.descendants();
    }
  }

  querySelectorAll(selector) {
    const list = parseSelector(selector);
    return [...this.descendants()].filter((e) => list.some((s) => matchComplex(e, s, this)));
  }

  querySelector(selector) {
    return this.querySelectorAll(selector)[0] ?? null;
  }
}

class Text extends Node {
  constructor(doc, data) {
    super(doc);
    this.nodeType = 3;
    this.data = data;
  }

  get textContent() {
    return this.data;
  }

  set textContent(value) {
    this.data = String(value ?? '');
  }
}

const BOOLEAN_PROPS = ['hidden', 'disabled', 'open', 'required'];
const STRING_PROPS = { id: 'id', className: 'class', title: 'title', type: 'type', href: 'href', src: 'src', alt: 'alt', placeholder: 'placeholder' };

class Element extends Node {
  constructor(doc, tag, namespace = HTML_NS) {
    super(doc);
    this.nodeType = 1;
    this.namespaceURI = namespace;
    this.localName = namespace === HTML_NS ? tag.toLowerCase() : tag;
    this.attrs = new Map();
    this.style = {};
    this.valueSet = null;
    this.checked = false;
    const element = this;
    this.classList = {
      contains: (c) => element.classes().includes(c),
      add: (...cs) => element.setClasses([...new Set([...element.classes(), ...cs])]),
      remove: (...cs) => element.setClasses(element.classes().filter((c) => !cs.includes(c))),
      toggle(c, force) {
        const on = force ?? !element.classes().includes(c);
        if (on) this.add(c);
        else this.remove(c);
        return on;
      },
    };
    this.dataset = new Proxy(
      {},
      {
        get: (_, key) => (typeof key === 'string' ? element.getAttribute(`data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`) ?? undefined : undefined),
        set: (_, key, value) => {
          element.setAttribute(`data-${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, value);
          return true;
        },
      },
    );
  }

  get tagName() {
    return this.namespaceURI === HTML_NS ? this.localName.toUpperCase() : this.localName;
  }

  classes() {
    return (this.getAttribute('class') ?? '').split(/\s+/).filter(Boolean);
  }

  setClasses(list) {
    this.setAttribute('class', list.join(' '));
  }

  getAttribute(name) {
    return this.attrs.has(name) ? this.attrs.get(name) : null;
  }

  setAttribute(name, value) {
    this.attrs.set(name, String(value));
  }

  removeAttribute(name) {
    this.attrs.delete(name);
  }

  hasAttribute(name) {
    return this.attrs.has(name);
  }

  toggleAttribute(name, force) {
    const on = force ?? !this.hasAttribute(name);
    if (on) this.setAttribute(name, '');
    else this.removeAttribute(name);
    return on;
  }

  get value() {
    if (this.valueSet != null) return this.valueSet;
    if (this.localName === 'select') {
      const options = this.querySelectorAll('option');
      const chosen = options.find((o) => o.hasAttribute('selected')) ?? options[0];
      return chosen ? chosen.getAttribute('value') ?? chosen.textContent : '';
    }
    return this.getAttribute('value') ?? '';
  }

  set value(v) {
    this.valueSet = String(v ?? '');
  }

  matches(selector) {
    return parseSelector(selector).some((s) => matchComplex(this, s, null));
  }

  closest(selector) {
    for (let n = this; n instanceof Element; n = n.parentNode) if (n.matches(selector)) return n;
    return null;
  }

  /** Drawn at all: connected, not hidden, not in a closed dialog. */
  get rendered() {
    if (!this.isConnected) return false;
    for (let n = this; n instanceof Element; n = n.parentNode) {
      if (n.hidden) return false;
      if (n.localName === 'dialog' && !n.open) return false;
    }
    return true;
  }

  getClientRects() {
    return this.rendered ? [{ x: 0, y: 0, width: 100, height: 20 }] : [];
  }

  getBoundingClientRect() {
    return { x: 0, y: 0, top: 0, left: 0, right: 0, bottom: 0, width: 0, height: 0 };
  }

  get offsetWidth() {
    return 0;
  }

  get offsetHeight() {
    return 0;
  }

  get focusable() {
    if (!this.rendered || this.disabled) return false;
    if (['button', 'input', 'select', 'textarea', 'summary'].includes(this.localName)) return true;
    if (this.localName === 'a' && this.hasAttribute('href')) return true;
    return this.hasAttribute('tabindex');
  }

  focus() {
    if (!this.focusable) return;
    const doc = this.ownerDocument;
    if (doc.activeElement === this) return;
    doc.activeElement = this;
  }

  blur() {
    const doc = this.ownerDocument;
    if (doc.activeElement === this) doc.activeElement = doc.body;
  }

  click() {
    if (this.disabled) return;
    const go = this.dispatchEvent(new FakeEvent('click', { bubbles: true }));
    // A submit button submits its form (a <button> is one unless it says otherwise).
    const form = this.closest('form');
    if (go && form && this.localName === 'button' && (this.getAttribute('type') ?? 'submit') === 'submit') {
      form.dispatchEvent(new FakeEvent('submit', { bubbles: true }));
    }
  }

  select() {}

  scrollIntoView() {}

  showModal() {
    this.open = true;
  }

  close() {
    if (!this.open) return;
    this.open = false;
    this.dispatchEvent(new FakeEvent('close'));
  }
}

for (const name of BOOLEAN_PROPS) {
  Object.defineProperty(Element.prototype, name, {
    get() {
      return this.hasAttribute(name);
    },
    set(on) {
      this.toggleAttribute(name, Boolean(on));
    },
  });
}
for (const [prop, attr] of Object.entries(STRING_PROPS)) {
  Object.defineProperty(Element.prototype, prop, {
    get() {
      return this.getAttribute(attr) ?? '';
    },
    set(v) {
      this.setAttribute(attr, v);
    },
  });
}

class Document extends Node {
  constructor() {
    super(null);
    this.nodeType = 9;
    this.ownerDocument = this;
    this.activeElement = null;
    this.styleSheets = [];
    this.copied = [];
  }

  get documentElement() {
    return this.children[0] ?? null;
  }

  get body() {
    return this.querySelector('body');
  }

  get head() {
    return this.querySelector('head');
  }

  createElement(tag) {
    return new Element(this, tag);
  }

  createElementNS(namespace, tag) {
    return new Element(this, tag, namespace);
  }

  createTextNode(text) {
    return new Text(this, String(text));
  }

  getElementById(id) {
    for (const e of this.descendants()) if (e.getAttribute('id') === id) return e;
    return null;
  }

  createRange() {
    return { selectNodeContents() {} };
  }

  /** The old way to copy: reports failure, as a page without permission gets. */
  execCommand() {
    return false;
  }
}

// ------------------------------------------------------------------ selectors

// A selector list is a list of complex selectors; each is a list of compound
// selectors joined by ' ' (descendant) or '>' (child).
function parseSelector(text) {
  return splitTop(text, ',').map((part) => {
    const steps = [];
    let combinator = null;
    for (const token of part.trim().match(/(?:[^\s>[\]()]+|\[[^\]]*\]|\([^)]*\))+|>/g) ?? []) {
      if (token === '>') combinator = '>';
      else {
        steps.push({ combinator: steps.length ? combinator ?? ' ' : null, compound: parseCompound(token) });
        combinator = null;
      }
    }
    return steps;
  });
}

function splitTop(text, sep) {
  const out = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '(' || c === '[') depth += 1;
    else if (c === ')' || c === ']') depth -= 1;
    else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function parseCompound(token) {
  const tests = [];
  const re = /^(\*|[a-zA-Z][\w-]*)|#([\w-]+)|\.([\w-]+)|\[([\w-]+)(?:([\^$*]?=)"?([^"\]]*)"?)?\]|:not\(([^)]*)\)/g;
  let seen = 0;
  for (const m of token.matchAll(re)) {
    if (m.index !== seen) throw new Error(`fake-dom: cannot parse selector "${token}"`);
    seen = m.index + m[0].length;
    const [, tag, id, cls, name, op, want, not] = m;
    if (tag && tag !== '*') tests.push((e) => e.localName === tag.toLowerCase() || e.localName === tag);
    else if (id) tests.push((e) => e.getAttribute('id') === id);
    else if (cls) tests.push((e) => e.classes().includes(cls));
    else if (name) {
      tests.push((e) => {
        const have = e.getAttribute(name);
        if (have == null) return false;
        if (!op) return true;
        if (op === '=') return have === want;
        if (op === '^=') return have.startsWith(want);
        if (op === '$=') return have.endsWith(want);
        return have.includes(want);
      });
    } else if (not != null) {
      const inner = parseCompound(not);
      tests.push((e) => !inner(e));
    }
  }
  if (seen !== token.length) throw new Error(`fake-dom: cannot parse selector "${token}"`);
  return (e) => tests.every((t) => t(e));
}

/** Matches right to left; `scope` bounds the ancestors looked at. */
function matchComplex(element, steps, scope) {
  const match = (e, i) => {
    if (!steps[i].compound(e)) return false;
    if (i === 0) return true;
    const up = (n) => (n && n !== scope && n instanceof Element ? n : null);
    if (steps[i].combinator === '>') {
      const parent = up(e.parentNode);
      return Boolean(parent) && match(parent, i - 1);
    }
    for (let n = up(e.parentNode); n; n = up(n.parentNode)) if (match(n, i - 1)) return true;
    return false;
  };
  return match(element, steps.length - 1);
}

// ------------------------------------------------------------------ HTML

/** Parses a well-formed page such as ui/index.html; scripts are left out. */
export function parseDocument(html) {
  const doc = new Document();
  const stack = [doc];
  const top = () => stack[stack.length - 1];
  const re = /<!--[\s\S]*?-->|<!doctype[^>]*>|<\/([a-zA-Z][\w-]*)\s*>|<([a-zA-Z][\w-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*(\/?)>|([^<]+)/gi;
  let m;
  while ((m = re.exec(html))) {
    const [, close, open, attrs, selfClose, text] = m;
    if (text != null) {
      if (!(top() instanceof Document)) top().append(doc.createTextNode(decode(text)));
    } else if (close) {
      const name = close.toLowerCase();
      const at = stack.findLastIndex((n) => n instanceof Element && n.localName === name);
      if (at > 0) stack.length = at;
    } else if (open) {
      const element = doc.createElement(open);
      for (const a of attrs.matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
        element.setAttribute(a[1].toLowerCase(), decode(a[2] ?? a[3] ?? a[4] ?? ''));
      }
      if (element.localName === 'script') {
        re.lastIndex = html.indexOf('</script>', re.lastIndex) + '</script>'.length;
        continue;
      }
      top().append(element);
      if (!VOID.has(element.localName) && !selfClose) stack.push(element);
    }
  }
  doc.activeElement = doc.body;
  return doc;
}

export { Element, Text, Document };
