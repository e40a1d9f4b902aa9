// datasets.create, list (with each filter), get, listItems(owner, slug), getItem.
import { scenario } from "./scenario.mjs";

await scenario(async ({ client, input, step }) => {
  const created = await step("create", () =>
    client.datasets.create({
      name: "SDK Street Scenes",
      slug: "sdk-street-scenes",
      dataType: "image",
      visibility: "private",
      createMetadata: true,
    }),
  );
  await step("list", () => client.datasets.list());
  await step("listByName", () => client.datasets.list({ name: "SDK Street Scenes" }));
  await step("listByDataType", () => client.datasets.list({ dataType: "image" }));
  await step("listByOtherDataType", () => client.datasets.list({ dataType: "lidar" }));
  await step("listByVisibility", () => client.datasets.list({ visibility: "private" }));
  await step("listByOtherVisibility", () => client.datasets.list({ visibility: "public" }));
  await step("listByStatus", () => client.datasets.list({ status: created?.status ?? "created" }));
  await step("listFirstPage", () => client.datasets.list({ limit: 1 }));
  if (created?.uid) {
    await step("get", () => client.datasets.get(created.uid));
  }
  await step("getSeeded", () => client.datasets.get(input.dataset));
  const items = await step("listItems", () => client.datasets.listItems(input.owner, input.datasetSlug));
  await step("listItemsFirstPage", () => client.datasets.listItems(input.owner, input.datasetSlug, { limit: 2 }));
  const uid = items?.items?.[0]?.uid ?? input.item;
  await step("getItem", () => client.datasets.getItem(input.owner, input.datasetSlug, uid));
  await step("getMissing", () => client.datasets.get("00000000-0000-0000-0000-000000000000"));
});
