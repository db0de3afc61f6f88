// --watch keeps secrets fresh by fetching them again. A reference whose fetch changes something (a
// write that issues a certificate) would issue a new one at every check, so such a reference is
// refused up front, before any login: the provider's grammar says which (LocatorGrammar.unwatchable).
import { SecretwrapError } from "../errors.ts";
import type { Plan } from "../plan.ts";
import { describeRef } from "../config/ref.ts";
import { descriptorOf } from "../provider.ts";

/** Throws CONFIG_INVALID (78) naming the first declaration --watch cannot keep, if there is one. */
export function refuseUnwatchable(plan: Plan): void {
  for (const target of plan.targets) {
    const why = descriptorOf(target.ref.scheme).locator.unwatchable?.(target.ref.params);
    if (why === undefined) continue;
    throw new SecretwrapError(
      "CONFIG_INVALID",
      `${target.name} (${target.source}) cannot be watched: ${why}`,
      {
        subject: { secret: target.name, ref: describeRef(target.ref.raw) },
        hint: "run without --watch (the secret is fetched once, at start), or read the value from a path that does not write",
      },
    );
  }
  for (const template of plan.templates ?? []) {
    for (const { ref } of template.refs) {
      const why = descriptorOf(ref.scheme).locator.unwatchable?.(ref.params);
      if (why === undefined) continue;
      throw new SecretwrapError(
        "CONFIG_INVALID",
        `${template.name} (${template.source}) cannot be watched: ${why}`,
        {
          subject: { secret: template.name, ref: describeRef(ref.raw) },
          hint: "run without --watch (the secret is fetched once, at start), or read the value from a path that does not write",
        },
      );
    }
  }
}
