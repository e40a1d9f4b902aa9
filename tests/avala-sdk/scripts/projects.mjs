// projects.list, get.
import { scenario } from "./scenario.mjs";

await scenario(async ({ client, input, step }) => {
  await step("list", () => client.projects.list());
  await step("listFirstPage", () => client.projects.list({ limit: 1 }));
  await step("get", () => client.projects.get(input.project));
  await step("getMissing", () => client.projects.get("00000000-0000-0000-0000-000000000000"));
});
