// Icons and status dots as SVG built with createElementNS: no markup strings,
// no external files, nothing the CSP has to allow.

const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

// 24x24 line icons, drawn with currentColor. Each entry is a list of shapes.
const ICONS = {
  bell: [['path', { d: 'M6 16.5V11a6 6 0 0 1 12 0v5.5l1.5 1.5h-15Z' }], ['path', { d: 'M10 20.5a2.2 2.2 0 0 0 4 0' }]],
  'bell-ring': [
    ['path', { d: 'M7 16.5V11a5 5 0 0 1 10 0v5.5l1.5 1.5h-13Z' }],
    ['path', { d: 'M10.2 20.5a2 2 0 0 0 3.6 0' }],
    ['path', { d: 'M3.2 9.5a8.5 8.5 0 0 1 2.3-4.3M20.8 9.5a8.5 8.5 0 0 0-2.3-4.3' }],
  ],
  'bell-off': [
    ['path', { d: 'M8.2 5.6A6 6 0 0 1 18 11v5' }],
    ['path', { d: 'M6 11v5.5L4.5 18H18' }],
    ['path', { d: 'M10 20.5a2.2 2.2 0 0 0 4 0' }],
    ['path', { d: 'M4 4l16 16' }],
  ],
  star: [['path', { d: 'M12 3.8l2.5 5.1 5.6.8-4.05 3.95.95 5.6L12 16.6l-5 2.65.95-5.6L3.9 9.7l5.6-.8Z', class: 'fillable' }]],
  chat: [['path', { d: 'M5.5 4.5h13A1.5 1.5 0 0 1 20 6v8.5a1.5 1.5 0 0 1-1.5 1.5H10l-4 3.5V16h-.5A1.5 1.5 0 0 1 4 14.5V6a1.5 1.5 0 0 1 1.5-1.5Z' }]],
  call: [['path', { d: 'M8 3.75l2 4.5-1.9 1.4c1 2.3 3.9 5.2 6.2 6.2l1.4-1.9 4.5 2v2.5a2 2 0 0 1-2 2C10.4 20.45 3.55 13.6 3.55 5.75a2 2 0 0 1 2-2Z' }]],
  more: [
    ['circle', { cx: 6, cy: 12, r: 1.4, class: 'solid' }],
    ['circle', { cx: 12, cy: 12, r: 1.4, class: 'solid' }],
    ['circle', { cx: 18, cy: 12, r: 1.4, class: 'solid' }],
  ],
  plus: [['path', { d: 'M12 5v14M5 12h14' }]],
  'person-add': [
    ['circle', { cx: 10, cy: 8, r: 3.5 }],
    ['path', { d: 'M3.5 19.5a6.5 6.5 0 0 1 10.5-5.1' }],
    ['path', { d: 'M18 14v6M15 17h6' }],
  ],
  settings: [
    ['path', { d: 'M4 7h9M17 7h3M4 17h3M11 17h9' }],
    ['circle', { cx: 15, cy: 7, r: 2 }],
    ['circle', { cx: 9, cy: 17, r: 2 }],
  ],
  copy: [
    ['rect', { x: 8.5, y: 8.5, width: 11, height: 11, rx: 2 }],
    ['path', { d: 'M15.5 5.5V5a1.5 1.5 0 0 0-1.5-1.5H5A1.5 1.5 0 0 0 3.5 5v9A1.5 1.5 0 0 0 5 15.5h.5' }],
  ],
  check: [['path', { d: 'M5 12.5l4.5 4.5L19 7.5' }]],
  search: [['circle', { cx: 10.5, cy: 10.5, r: 6 }], ['path', { d: 'M15 15l5 5' }]],
  close: [['path', { d: 'M6.5 6.5l11 11M17.5 6.5l-11 11' }]],
  trash: [['path', { d: 'M4.5 7h15M9.5 7V4.5h5V7M6.5 7l1 12.5h9l1-12.5' }]],
  info: [['circle', { cx: 12, cy: 12, r: 8.5 }], ['path', { d: 'M12 11v5.5M12 7.6v.1' }]],
  warning: [['path', { d: 'M12 4l9 15.5H3Z' }], ['path', { d: 'M12 10v4.5M12 17.1v.1' }]],
  offline: [
    ['path', { d: 'M3 9a13 13 0 0 1 4.5-2.7M10.5 5.6A13 13 0 0 1 21 9' }],
    ['path', { d: 'M6 12.5a8.5 8.5 0 0 1 3.5-1.9M14 10.8a8.5 8.5 0 0 1 4 1.7' }],
    ['path', { d: 'M9.5 16a4 4 0 0 1 5 0' }],
    ['path', { d: 'M4 4l16 16' }],
  ],
  clock: [['circle', { cx: 12, cy: 12, r: 8.5 }], ['path', { d: 'M12 7.5V12l3 2' }]],
  open: [['path', { d: 'M14 4.5h5.5V10M19.5 4.5l-8.5 8.5M17.5 14v4a1.5 1.5 0 0 1-1.5 1.5H6A1.5 1.5 0 0 1 4.5 18V8A1.5 1.5 0 0 1 6 6.5h4' }]],
  people: [
    ['circle', { cx: 9, cy: 8.5, r: 3.3 }],
    ['path', { d: 'M3 19.5a6 6 0 0 1 12 0' }],
    ['circle', { cx: 16.5, cy: 9.5, r: 2.5 }],
    ['path', { d: 'M16.2 14a4.8 4.8 0 0 1 5.3 5' }],
  ],
  person: [['circle', { cx: 12, cy: 8, r: 3.8 }], ['path', { d: 'M4.5 20a7.5 7.5 0 0 1 15 0' }]],
  hierarchy: [
    ['rect', { x: 9, y: 3.5, width: 6, height: 4.5, rx: 1 }],
    ['rect', { x: 3.5, y: 16, width: 6, height: 4.5, rx: 1 }],
    ['rect', { x: 14.5, y: 16, width: 6, height: 4.5, rx: 1 }],
    ['path', { d: 'M12 8v4M6.5 16v-4h11v4' }],
  ],
  team: [
    ['circle', { cx: 12, cy: 7.5, r: 2.8 }],
    ['circle', { cx: 5.5, cy: 10, r: 2 }],
    ['circle', { cx: 18.5, cy: 10, r: 2 }],
    ['path', { d: 'M7.5 19.5a4.5 4.5 0 0 1 9 0M2.5 17.5a3 3 0 0 1 4.5-2.6M21.5 17.5a3 3 0 0 0-4.5-2.6' }],
  ],
  chevron: [['path', { d: 'M7.5 10l4.5 4.5 4.5-4.5' }]],
  'arrow-out': [['path', { d: 'M13 5.5l6.5 6.5-6.5 6.5M19.5 12H4.5' }]],
  quote: [['path', { d: 'M5 8.5h13.5v8H11l-4 3v-3H5Z' }]],
};

/** An inline icon, hidden from assistive technology (the control is named). */
export function icon(name, extraClass = '') {
  const svg = svgEl('svg', {
    viewBox: '0 0 24 24',
    class: `icon icon-${name}${extraClass ? ' ' + extraClass : ''}`,
    'aria-hidden': 'true',
    focusable: 'false',
  });
  for (const [tag, attrs] of ICONS[name] ?? []) svg.append(svgEl(tag, attrs));
  return svg;
}

/** Replaces every `<span data-icon="name">` in `root` with its icon. */
export function fillIcons(root) {
  for (const holder of root.querySelectorAll('[data-icon]')) {
    holder.replaceWith(icon(holder.dataset.icon, holder.className));
  }
}

// The glyph inside the dot, as Teams draws it (16x16 box).
const GLYPHS = {
  available: [['path', { d: 'M4.7 8.3l2.2 2.2 4.4-4.6', class: 'glyph' }]],
  busy: [],
  dnd: [['rect', { x: 4.4, y: 7.1, width: 7.2, height: 1.8, rx: 0.6, class: 'glyph-solid' }]],
  away: [['path', { d: 'M8 4.6v3.7l2.4 1.6', class: 'glyph' }]],
  oof: [['path', { d: 'M11.3 8H5.2M7.6 5.4L5 8l2.6 2.6', class: 'glyph' }]],
  offline: [],
  unknown: [],
};

/**
 * The status dot: colour and glyph by kind, with a text alternative
 * (`label`) for screen readers.
 */
export function statusDot(kind, label) {
  const svg = svgEl('svg', { viewBox: '0 0 16 16', class: `dot dot-${kind}`, role: 'img', 'aria-label': label });
  svg.append(svgEl('circle', { cx: 8, cy: 8, r: 8, class: 'dot-halo' }));
  const hollow = kind === 'offline' || kind === 'unknown';
  svg.append(svgEl('circle', hollow ? { cx: 8, cy: 8, r: 5.6, class: 'dot-ring' } : { cx: 8, cy: 8, r: 6.6, class: 'dot-fill' }));
  for (const [tag, attrs] of GLYPHS[kind] ?? []) svg.append(svgEl(tag, attrs));
  return svg;
}

/** Presently's mark: a rounded tile with two people and a green dot. */
export function logo() {
  const svg = svgEl('svg', { viewBox: '0 0 48 48', class: 'logo', 'aria-hidden': 'true', focusable: 'false' });
  svg.append(svgEl('rect', { x: 0, y: 0, width: 48, height: 48, rx: 12, class: 'logo-tile' }));
  svg.append(svgEl('circle', { cx: 20, cy: 18, r: 6.5, class: 'logo-person' }));
  svg.append(svgEl('path', { d: 'M8.5 37a11.5 11.5 0 0 1 23 0Z', class: 'logo-person' }));
  svg.append(svgEl('circle', { cx: 34, cy: 32, r: 8, class: 'logo-halo' }));
  svg.append(svgEl('circle', { cx: 34, cy: 32, r: 6, class: 'logo-dot' }));
  svg.append(svgEl('path', { d: 'M30.8 32.2l2.2 2.2 4.2-4.4', class: 'logo-check' }));
  return svg;
}
