// The admin pages (/mntr, /sessions, /watches) as the signed-in admin: with --admin-users they
// answer 401 without the Basic header, and the message says whether the user is signed in at all.
import type { ConsoleState } from './state.js';

export async function adminJson<T>(st: ConsoleState, url: string): Promise<T> {
  const auth = st.adminAuthorization;
  // credentials 'omit': a 401 then comes back to this code instead of opening the browser's
  // own login prompt (the fetch standard prompts only for requests that include credentials).
  const res = await fetch(url, { cache: 'no-store', credentials: 'omit', ...(auth !== null ? { headers: { authorization: auth } } : {}) });
  if (res.status === 401) {
    throw new Error(auth === null
      ? `${url} needs an admin user (--admin-users): not signed in — give admin credentials above`
      : `${url}: the signed-in user is not an admin user of this server (HTTP 401)`);
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
