// Supabase Storage over its REST API with the service key (the same endpoints storage-js uses).
import { config } from "./config.ts";
import { AppError } from "./errors.ts";

function endpoint(path: string) {
  return `${config().SUPABASE_URL}/storage/v1/object/${path}`;
}

function auth() {
  return { Authorization: `Bearer ${config().SUPABASE_SERVICE_ROLE_KEY}` };
}

const objectPath = (bucket: string, path: string) => `${bucket}/${path.split("/").map(encodeURIComponent).join("/")}`;

export async function uploadObject(bucket: string, path: string, bytes: Uint8Array<ArrayBuffer>, contentType: string) {
  const res = await fetch(endpoint(objectPath(bucket, path)), {
    method: "POST",
    headers: { ...auth(), "content-type": contentType, "x-upsert": "true" },
    body: bytes,
  });
  await res.body?.cancel();
  if (!res.ok) throw new AppError("SERVICE_UNAVAILABLE", `Storage refused the upload (HTTP ${res.status})`);
}

export async function downloadObject(bucket: string, path: string): Promise<Uint8Array<ArrayBuffer>> {
  const res = await fetch(endpoint(`authenticated/${objectPath(bucket, path)}`), { headers: auth() });
  if (res.status === 404 || res.status === 400) {
    await res.body?.cancel();
    throw new AppError("NOT_FOUND", `File ${bucket}/${path} does not exist`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new AppError("SERVICE_UNAVAILABLE", `Storage refused the download (HTTP ${res.status})`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

export async function signedUrl(bucket: string, path: string, expiresIn = 3600): Promise<string> {
  const res = await fetch(endpoint(`sign/${objectPath(bucket, path)}`), {
    method: "POST",
    headers: { ...auth(), "content-type": "application/json" },
    body: JSON.stringify({ expiresIn }),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new AppError("SERVICE_UNAVAILABLE", `Storage could not sign a URL (HTTP ${res.status})`);
  }
  const { signedURL } = await res.json();
  // Providers fetch these (kie reference images): the public Storage URL, not the local one.
  return `${config().PUBLIC_STORAGE_URL}${signedURL}`;
}

/** Deletes everything under `prefix` (a generation's folder): Storage lists, then removes. */
export async function removeFolder(bucket: string, prefix: string) {
  const listed = await fetch(endpoint(`list/${bucket}`), {
    method: "POST",
    headers: { ...auth(), "content-type": "application/json" },
    body: JSON.stringify({ prefix, limit: 1000 }),
  });
  if (!listed.ok) {
    await listed.body?.cancel();
    throw new AppError("SERVICE_UNAVAILABLE", `Storage could not list ${bucket}/${prefix} (HTTP ${listed.status})`);
  }
  const names = (await listed.json() as { name: string }[]).map((o) => `${prefix.replace(/\/$/, "")}/${o.name}`);
  if (names.length === 0) return;
  const removed = await fetch(endpoint(bucket), {
    method: "DELETE",
    headers: { ...auth(), "content-type": "application/json" },
    body: JSON.stringify({ prefixes: names }),
  });
  await removed.body?.cancel();
  if (!removed.ok) throw new AppError("SERVICE_UNAVAILABLE", `Storage could not delete ${bucket}/${prefix} (HTTP ${removed.status})`);
}
