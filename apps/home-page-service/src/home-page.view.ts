import type { UserView } from './user.dto';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const page = (title: string, body: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body>\n${body}\n</body></html>\n`;

/** The home page with the user read from user-service. */
export function renderHomePage(user: UserView): string {
  return page(
    'Home',
    `<h1>Welcome, ${escapeHtml(user.name)}</h1>\n<ul>\n<li>Email: ${escapeHtml(user.email)}</li>\n<li>Phone: ${escapeHtml(user.phone)}</li>\n</ul>\n<p>Read from user-service over mutual TLS.</p>`,
  );
}

/** The 502 page: which upstream failed and why. */
export function renderUpstreamError(upstream: string, reason: string): string {
  return page('Bad gateway', `<h1>502 Bad Gateway</h1>\n<p>Could not read the user from ${escapeHtml(upstream)}: ${escapeHtml(reason)}</p>`);
}
