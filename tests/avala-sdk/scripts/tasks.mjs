// tasks.list({ project }), tasks.get.
import { scenario } from "./scenario.mjs";

await scenario(async ({ client, input, step }) => {
  const page = await step("list", () => client.tasks.list({ project: input.project }));
  await step("listOtherProject", () => client.tasks.list({ project: input.otherProject }));
  await step("listFirstPage", () => client.tasks.list({ project: input.project, limit: 1 }));
  if (page?.items?.[0]?.uid) {
    await step("get", () => client.tasks.get(page.items[0].uid));
  }
  await step("getMissing", () => client.tasks.get("00000000-0000-0000-0000-000000000000"));
});
