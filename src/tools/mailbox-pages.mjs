// The mailbox's pages: plain HTML with one inline stylesheet; every value from a message is
// escaped. Used by mailbox.mjs; Node-side tooling, not part of the Worker bundle.
import { formatTime, headerBlock } from "./mailbox.mjs";

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

const STYLE = `:root{color-scheme:light dark;font:16px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
body{max-width:62rem;margin:0 auto;padding:1rem}h1{font-size:1.4rem;margin:.2rem 0 .6rem;overflow-wrap:anywhere}
h2{font-size:1.05rem;margin:1.4rem 0 .4rem}a{color:#1d5fd6}.muted,.meta,dt{color:#777;font-size:.9rem}
.messages{list-style:none;margin:0;padding:0}.messages a{display:block;padding:.7rem .3rem;border-bottom:1px solid #8884;color:inherit;text-decoration:none}
.messages a:hover{background:#8881}.subject{display:block;font-weight:600;overflow-wrap:anywhere}
.meta{display:flex;flex-wrap:wrap;justify-content:space-between;gap:0 1rem}.meta span,dd,code,.links{overflow-wrap:anywhere}
.empty{padding:2rem 0}nav{display:flex;flex-wrap:wrap;gap:1rem;margin-bottom:.5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dd{margin:0}
iframe{display:block;width:100%;height:70vh;border:1px solid #8886;border-radius:4px;background:#fff;resize:vertical}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#8881;padding:.75rem;border-radius:4px}
@media (max-width:30rem){dl{grid-template-columns:1fr}dt{margin-top:.4rem}}@media (prefers-color-scheme:dark){a{color:#7eb0ff}}`;

function page(title, body, head = "") {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${head}
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
</body></html>
`;
}

export function renderList(messages, { smtpAddress, origin, dir }) {
  const items = messages.map(
    (m) =>
      `<li><a href="/messages/${escapeHtml(m.id)}"><span class="subject">${escapeHtml(m.subject || "(no subject)")}</span>` +
      `<span class="meta"><span>${escapeHtml(m.from || "<>")} → ${escapeHtml(m.to.join(", "))}</span>` +
      (m.envelopeFrom && m.envelopeFrom !== m.from ? `<span>envelope ${escapeHtml(m.envelopeFrom)}</span>` : "") +
      `<time datetime="${escapeHtml(m.receivedAt)}">${escapeHtml(formatTime(m.receivedAt))}</time></span></a></li>`,
  );
  const count = `${messages.length} message${messages.length === 1 ? "" : "s"}`;
  return page(
    `Tidings mailbox (${messages.length})`,
    `<h1>Tidings mailbox</h1>
<p class="muted">${count} · SMTP relay on ${escapeHtml(smtpAddress)} (no TLS, any login or none) · refreshes every 10 s</p>
${items.length ? `<ul class="messages">\n${items.join("\n")}\n</ul>` : `<p class="empty">No messages yet. Mail the Worker delivers shows up here.</p>`}
<p class="muted">In a terminal: <code>npm run mailbox</code> · JSON: <a href="/api/messages">/api/messages</a> · clear all: <code>curl -X DELETE ${escapeHtml(origin)}/api/messages</code> · files: <code>${escapeHtml(dir)}</code></p>`,
    // Refreshing is what a newcomer waiting for a delivery wants; a message page does not refresh.
    '<meta http-equiv="refresh" content="10">',
  );
}

// A link followed inside the frame would load the destination there, and most sites refuse to be
// framed: links open in a new tab instead (allow-popups), outside the sandbox.
function openLinksInNewTab(html) {
  const head = /<head(?:\s[^>]*)?>/i.exec(html);
  if (!head) return `<base target="_blank">${html}`;
  const at = head.index + head[0].length;
  return `${html.slice(0, at)}<base target="_blank">${html.slice(at)}`;
}

export function formatAddresses(value) {
  return (value ? [].concat(value) : [])
    .map((a) => (a.group ? `${a.name}: ${formatAddresses(a.group)};` : a.name ? `${a.name} <${a.address}>` : a.address))
    .join(", ");
}

export function renderMessage(summary, email, links, raw) {
  const rows = [
    ["From", formatAddresses(email.from)],
    ["To", formatAddresses(email.to)],
    ["Cc", formatAddresses(email.cc)],
    ["Date", email.date ?? ""],
    ["Envelope", `${summary.envelopeFrom || "<>"} → ${summary.to.join(", ")}`],
    ["Received", `${formatTime(summary.receivedAt)} · ${(summary.size / 1024).toFixed(1)} KB`],
  ].filter(([, value]) => value);
  const id = escapeHtml(summary.id);
  const sections = [
    `<nav><a href="/">← All messages</a><a href="/messages/${id}.eml">Download .eml</a></nav>`,
    `<h1>${escapeHtml(email.subject || summary.subject || "(no subject)")}</h1>`,
    `<dl>${rows.map(([name, value]) => `<dt>${name}</dt><dd>${escapeHtml(value)}</dd>`).join("")}</dl>`,
  ];
  if (email.html) {
    sections.push(
      `<h2>HTML part</h2>\n<iframe title="HTML part" sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="${escapeHtml(openLinksInNewTab(email.html))}"></iframe>`,
    );
  }
  if (links.length) {
    const items = links.map((link) => `<li><a href="${escapeHtml(link)}" target="_blank" rel="noopener">${escapeHtml(link)}</a></li>`);
    sections.push(`<h2>Links</h2>\n<ol class="links">${items.join("")}</ol>`);
  }
  sections.push(`<h2>Text part</h2>\n${email.text ? `<pre>${escapeHtml(email.text)}</pre>` : '<p class="muted">(none)</p>'}`);
  sections.push(`<details><summary>All headers</summary><pre>${escapeHtml(headerBlock(raw).toString("utf8"))}</pre></details>`);
  return page(`${email.subject || summary.subject || "(no subject)"} · Tidings mailbox`, sections.join("\n"));
}

// `node src/tools/mailbox.mjs`: the mailbox alone, without the Worker.
