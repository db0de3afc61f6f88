// Every edit the build makes to an SDK's source, by the provider whose SDK it edits (README.md here:
// what each one saves and how to remove it). `node scripts/build.mjs --plain` builds without any.
// Some fail a build that lacks their SDK, so a bundle of one provider's SDK takes that provider's list.
import { axiosWithoutWebFetch } from "./axios-without-web-fetch.mjs";
import { googleGaxLazyProtos } from "./google-gax-lazy-protos.mjs";
import { googleGaxRestOnly } from "./google-gax-rest-only.mjs";
import { msalLazyJsonwebtoken } from "./msal-lazy-jsonwebtoken.mjs";
import { tsHttpRuntimeFormDataCheckFirst } from "./ts-http-runtime-form-data-check-first.mjs";

export const sdkPatchesByProvider = {
  vault: [axiosWithoutWebFetch],
  awssecrets: [],
  gcpsecrets: [googleGaxRestOnly, googleGaxLazyProtos],
  azurekeyvault: [msalLazyJsonwebtoken, tsHttpRuntimeFormDataCheckFirst],
};

export const sdkPatches = Object.values(sdkPatchesByProvider).flat();
