import type { Location, Signature } from './types.js'

const params: Location[] = ['query', 'body', 'cookie', 'header', 'segment']
const handlers =
  'abort|activate|afterprint|afterscriptexecute|animationend|animationiteration|animationstart|auxclick|beforecopy|beforecut|' +
  'beforeinput|beforeprint|beforescriptexecute|beforetoggle|beforeunload|begin|blur|bounce|canplay|canplaythrough|change|click|' +
  'close|contextmenu|copy|cuechange|cut|dblclick|drag|dragend|dragenter|dragleave|dragover|dragstart|drop|durationchange|end|' +
  'ended|error|finish|focus|focusin|focusout|formdata|fullscreenchange|hashchange|input|invalid|keydown|keypress|keyup|load|' +
  'loadeddata|loadedmetadata|loadstart|message|mousedown|mouseenter|mouseleave|mousemove|mouseout|mouseover|mouseup|' +
  'mousewheel|pagehide|pageshow|paste|pause|play|playing|pointerdown|pointerenter|pointerleave|pointermove|pointerout|' +
  'pointerover|pointerrawupdate|pointerup|popstate|progress|readystatechange|repeat|reset|resize|scroll|scrollend|search|seeked|' +
  'seeking|select|selectionchange|selectstart|show|start|storage|submit|suspend|timeupdate|toggle|touchend|touchmove|' +
  'touchstart|transitioncancel|transitionend|transitionrun|transitionstart|unhandledrejection|unload|volumechange|waiting|wheel'

/**
 * Cross-site scripting. libinjection's HTML5 tokenizer (is_xss) is the backbone; the regexes add
 * attribute breakouts without a tag, `javascript:` URIs that call something (so the book title
 * "javascript: the good parts" passes), and script-capable tags. Each runs after URL and HTML
 * entity decoding so `&#x3C;script&#x3E;` and `%3Cscript%3E` look the same as `<script>`.
 */
export const xssSignatures: Signature[] = [
  { id: 'xss-001', family: 'xss', name: 'Cross-site scripting (libinjection)', paranoia: 1, severity: 'critical', on: [...params, 'keys'], match: { op: 'is_xss' }, transforms: ['remove_nulls'] },
  { id: 'xss-002', family: 'xss', name: 'Cross-site scripting, URL- or entity-encoded (libinjection)', paranoia: 1, severity: 'critical', on: params, match: { op: 'is_xss' }, transforms: ['url_decode', 'url_decode', 'html_entity_decode', 'js_decode', 'unicode_normalize', 'remove_nulls'] },
  {
    id: 'xss-003', family: 'xss', name: 'Script tag', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`<\s*/?\s*script\b|<\s*script[\s/>]` },
    transforms: ['url_decode', 'html_entity_decode', 'js_decode', 'remove_nulls'],
  },
  {
    id: 'xss-004', family: 'xss', name: 'Event handler attribute (onload=, onerror=, ...)', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`(?:<[a-z][^>]*?[\s/"'\x60]|^\s*['"\x60]?\s*>?\s*|['"\x60]\s*(?:/|\s)*)on(?:${handlers})\s*=` },
    transforms: ['url_decode', 'html_entity_decode', 'js_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'xss-005', family: 'xss', name: 'javascript:/vbscript: URI that runs code', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`(?:^|[\s"'\x60=(<,;:])(?:j\s*a\s*v\s*a|v\s*b|l\s*i\s*v\s*e)\s*s\s*c\s*r\s*i\s*p\s*t\s*:\s*[^\s(\x60]*[(\x60=]|(?:^|[\s"'=])(?:java|vb)script\s*:\s*(?://|/\*|['"]|$)` },
    transforms: ['url_decode', 'html_entity_decode', 'js_decode', 'remove_nulls', 'compress_whitespace', 'lowercase'],
  },
  {
    id: 'xss-006', family: 'xss', name: 'HTML data: URI', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`\bdata\s*:\s*(?:text/html|application/(?:x-)?(?:javascript|ecmascript|xhtml)|text/(?:javascript|xml))\b` },
    transforms: ['url_decode', 'html_entity_decode', 'lowercase'],
  },
  {
    id: 'xss-007', family: 'xss', name: 'Script-capable tag with a source (iframe, object, embed, svg, math, base, meta refresh, form action)', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`<\s*(?:iframe|frame|object|embed|applet|base|svg|math|isindex|form|button|input|meta|link|xss|x)\b[^>]*?\b(?:src|srcdoc|data|href|xlink:href|action|formaction|code|http-equiv|content)\s*=\s*['"]?\s*(?:(?:java|vb)script:|data:|[^'"\s>]*\balert\b|#|x\b|//[^'"\s>]+\.js\b)` },
    transforms: ['url_decode', 'html_entity_decode', 'js_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'xss-008', family: 'xss', name: 'Tag followed by a JavaScript sink (alert, prompt, eval, document.cookie, fetch)', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`<[a-z!/?][^>]*(?:\b(?:alert|prompt|confirm|eval|print)\s*(?:\(|\x60|&#)|\bdocument\s*\.\s*(?:cookie|domain|write|location)|\bwindow\s*\.\s*location|\bstring\s*\.\s*fromcharcode|\batob\s*\(|\bimport\s*\(|\btop\s*\[)` },
    transforms: ['url_decode', 'html_entity_decode', 'js_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'xss-009', family: 'xss', name: 'Breakout from a JavaScript string into code', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`['"\x60]\s*(?:[;+\-*/|&,]|\)|\})\s*(?:alert|prompt|confirm|eval|print)\s*(?:\(|\x60)|</\s*script\s*>|['"]\s*;\s*(?:document|window|location|top|self|this)\s*[.\[]` },
    transforms: ['url_decode', 'html_entity_decode', 'js_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'xss-010', family: 'xss', name: 'CSS expression() or -moz-binding', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`\bexpression\s*\(\s*(?:alert|eval|document|window|this|location)|-moz-binding\s*:|\bbehavior\s*:\s*url\s*\(|@import\s+['"]?\s*(?:java|vb)script:` },
    transforms: ['url_decode', 'html_entity_decode', 'css_decode', 'lowercase'],
  },
  {
    id: 'xss-011', family: 'xss', name: 'AngularJS / client-side template expression reaching the constructor', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`\{\{.*(?:constructor|\$eval|\$on|\$emit|\$new|\$parent|alert\s*\().*\}\}` },
    transforms: ['url_decode', 'html_entity_decode', 'lowercase'],
  },
  {
    id: 'xss-012', family: 'xss', name: 'JavaScript sink call without markup (alert(, document.cookie)', paranoia: 2, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`\b(?:alert|prompt|confirm)\s*(?:\(|\x60)|\bdocument\s*\.\s*(?:cookie|domain|write)\b|\bstring\s*\.\s*fromcharcode\s*\(` },
    transforms: ['url_decode', 'html_entity_decode', 'js_decode', 'lowercase'],
  },
  {
    id: 'xss-013', family: 'xss', name: 'Risky tag: iframe, object, embed, svg, style, meta, base', paranoia: 2, severity: 'warning', on: params,
    match: { op: 'regex', regex: String.raw`<\s*(?:iframe|frame|frameset|object|embed|applet|svg|style|meta|base|link|math|template)\b` },
    transforms: ['url_decode', 'html_entity_decode', 'lowercase'],
  },
  {
    id: 'xss-014', family: 'xss', name: 'Any HTML tag with attributes', paranoia: 3, severity: 'warning', on: params,
    match: { op: 'regex', regex: String.raw`<[a-z][a-z0-9]*\s+[a-z\-]+\s*=` },
    transforms: ['url_decode', 'html_entity_decode', 'lowercase'],
  },
  {
    id: 'xss-015', family: 'xss', name: 'Angle bracket starting a tag', paranoia: 4, severity: 'notice', on: params,
    match: { op: 'regex', regex: String.raw`<[a-z/!?]` },
    transforms: ['url_decode', 'html_entity_decode', 'lowercase'],
  },
]
