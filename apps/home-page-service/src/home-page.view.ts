import type { UserView } from './user.dto';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const page = (title: string, body: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body>\n${body}\n</body></html>\n`;

/** The home page with the user, and the list of users, read from user-service. */
export function renderHomePage(user: UserView, all: UserView[] = []): string {
  const list = all.map((u) => `<li>${escapeHtml(u.name)} &lt;${escapeHtml(u.email)}&gt;</li>`).join('\n');
  return page(
    'Home',
    `<h1>Welcome, ${escapeHtml(user.name)}</h1>\n<ul>\n<li>Email: ${escapeHtml(user.email)}</li>\n<li>Phone: ${escapeHtml(user.phone)}</li>\n</ul>\n` +
      `<h2>All users</h2>\n<ul>\n${list}\n</ul>\n<p>Read from user-service over mutual TLS.</p>`,
  );
}

/** The 502 page: which upstream failed and why. */
export function renderUpstreamError(upstream: string, reason: string): string {
  return page('Bad gateway', `<h1>502 Bad Gateway</h1>\n<p>Could not read the users from ${escapeHtml(upstream)}: ${escapeHtml(reason)}</p>`);
}
