import type { Point } from './types.js';

// The spool's record: the JSON of a point. Most of it is the device's tags, the same for every
// point of the device (the pipeline shares one tags object per device), so their text is kept
// per tags object instead of being serialised again per point. Only frozen tags objects are
// remembered: nobody can change them behind the cache's back.

const tagsText = new WeakMap<object, string>();

/** Same JSON as `JSON.stringify(point)` for a Point (its four keys in this order). */
export function pointJson(p: Point): string {
  let tags = tagsText.get(p.tags);
  if (tags === undefined) {
    tags = JSON.stringify(p.tags);
    if (Object.isFrozen(p.tags)) tagsText.set(p.tags, tags);
  }
  return `{"measurement":${JSON.stringify(p.measurement)},"tags":${tags},"fields":${JSON.stringify(p.fields)},"tsUs":${JSON.stringify(p.tsUs)}}`;
}
