// organizations.list, get(slug), listMembers(slug).
import { scenario } from "./scenario.mjs";

await scenario(async ({ client, input, step }) => {
  const page = await step("list", () => client.organizations.list());
  const slug = page?.items?.[0]?.slug ?? input.owner;
  await step("get", () => client.organizations.get(slug));
  await step("listMembers", () => client.organizations.listMembers(slug));
  await step("getOther", () => client.organizations.get(input.otherOwner));
});
