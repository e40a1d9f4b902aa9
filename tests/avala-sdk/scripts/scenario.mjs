// Runs one scenario against the compiled Avala TypeScript SDK and prints what each step returned or threw,
// as one JSON object on standard output, for the C# test that started this process to assert on.
//   ANNEX_SDK_ENTRY       the compiled SDK's dist/index.js
//   ANNEX_BASE_URL        the server's API root, e.g. http://127.0.0.1:5123/api/v1
//   AVALA_API_KEY         the key the SDK sends (read by the SDK itself)
//   ANNEX_SCENARIO_INPUT  a JSON object of uids and slugs the test seeded
import { pathToFileURL } from "node:url";

function describe(error) {
  return {
    name: error?.name ?? typeof error,
    message: String(error?.message ?? error),
    status: error?.statusCode ?? null,
    body: error?.body ?? null,
  };
}

/** Calls body({ client, input, step, sdk }) and prints the recorded steps. */
export async function scenario(body) {
  const sdk = await import(pathToFileURL(process.env.ANNEX_SDK_ENTRY).href);
  // The SDK's own constructor, as its quick start uses it: only the base URL points elsewhere.
  const client = new sdk.Avala({ baseUrl: process.env.ANNEX_BASE_URL, timeout: 20_000 });
  const input = JSON.parse(process.env.ANNEX_SCENARIO_INPUT ?? "{}");
  const steps = {};

  /** Records what call() resolved to ({ ok: true, value }) or threw ({ ok: false, error }); returns the value. */
  async function step(name, call) {
    try {
      const value = await call();
      steps[name] = { ok: true, value: value === undefined ? null : value };
      return value;
    } catch (error) {
      steps[name] = { ok: false, error: describe(error) };
      return undefined;
    }
  }

  await body({ client, input, step, sdk });
  process.stdout.write(JSON.stringify(steps));
}

/** Waits until check() returns something truthy, polling every 100 ms; gives up after timeoutMs. */
export async function until(check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
