// The page /dashboard answers to someone who is not signed in as an administrator (401) or is signed in as
// somebody else (403): what is wrong, and a form to sign in. Static but for the message, which is escaped.

export function signInPage(message: string, devSignIn: boolean, origin: string): string {
  const dev = devSignIn
    ? `<form method="post" action="/dashboard/session">
        <input type="hidden" name="dev" value="1">
        <button type="submit">Sign in as administrator (development sign-in)</button>
      </form>
      <p>or</p>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>ftgo-mesh dashboard: sign in</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/dashboard/assets/dashboard.css">
</head>
<body>
  <main class="sign-in">
    <h1>ftgo-mesh dashboard</h1>
    <p role="alert" data-sign-in-error>${escapeHtml(message)}</p>
    ${dev}
    <form method="post" action="/dashboard/session">
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="off" required>
      <button type="submit">Sign in with this token</button>
    </form>
    <p>Get one with <code>curl -s -X POST ${escapeHtml(origin)}/api/v1/auth/token -H 'content-type: application/json' -d '{"role":"admin"}'</code>.</p>
  </main>
</body>
</html>
`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
