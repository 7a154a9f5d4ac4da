// The one way the UI talks to the server: the public REST API under /api/v1.

const BASE = "/api/v1";
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.error = error || {};
  }
}

function url(path, params) {
  const u = new URL(BASE + path, window.location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) u.searchParams.append(key, v);
  }
  return u.pathname + u.search;
}

async function request(method, path, { params, body, headers } = {}) {
  const init = { method, headers: { Accept: "application/json", ...(headers || {}) }, credentials: "same-origin" };
  if (method !== "GET") {
    if (!csrfToken) await session();
    init.headers["X-CSRF-Token"] = csrfToken;
  }
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path, params), init);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith("/session")) {
      window.location.hash = "#/login";
    }
    throw new ApiError(response.status, data?.error);
  }
  return data;
}

export async function session() {
  const data = await request("GET", "/session");
  csrfToken = data.csrf_token;
  return data;
}

export const api = {
  get: (path, params) => request("GET", path, { params }),
  post: (path, body, headers) => request("POST", path, { body, headers }),
  del: (path) => request("DELETE", path),
  url,
};
