// Printing a configured URL without its secret: `redis://worker:****@host:6379` keeps the user name (it
// tells which account) and masks the password.

export function maskUrlPassword(text: string): string {
  if (!URL.canParse(text)) return '****';
  const url = new URL(text);
  if (url.password !== '') url.password = '****';
  return url.toString();
}
