// slices.create (name, visibility, sub_slices), list(owner), get(owner, slug), listItems, getItem.
import { scenario } from "./scenario.mjs";

await scenario(async ({ client, input, step }) => {
  const created = await step("create", () =>
    client.slices.create({
      name: "SDK Night Frames",
      visibility: "private",
      subSlices: [{ type: "dataset", dataset_uid: input.dataset }],
    }),
  );
  await step("list", () => client.slices.list(input.owner));
  const slug = created?.slug ?? input.sliceSlug;
  await step("get", () => client.slices.get(input.owner, slug));
  await step("getSeeded", () => client.slices.get(input.owner, input.sliceSlug));
  const items = await step("listItems", () => client.slices.listItems(input.owner, input.sliceSlug));
  const uid = items?.items?.[0]?.uid ?? input.item;
  await step("getItem", () => client.slices.getItem(input.owner, input.sliceSlug, uid));
  await step("getMissing", () => client.slices.get(input.owner, "no-such-slice"));
});
