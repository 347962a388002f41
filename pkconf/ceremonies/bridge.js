// The browser side of the pkconf WebAuthn bridge, run as a Playwright init script in every frame.
//
// It is one function expression; Python calls it with a config object:
//   { binding: name of the exposed binding, or null to leave Chromium's authenticators alone,
//     platform: whether a user-verifying platform authenticator is "available",
//     attestation: a conveyance that replaces the page's ("none", "direct"...) or null }
// With a binding, navigator.credentials.create()/get() for publicKey options go to Python (the
// profile's software authenticator) and come back as objects that pass
// `instanceof PublicKeyCredential`, with the getters and toJSON() of WebAuthn Level 3.
(config) => {
  "use strict";
  if (!window.isSecureContext) return; // WebAuthn does not exist there: nothing to replace
  const container = CredentialsContainer.prototype;
  const nativeCreate = container.create;
  const nativeGet = container.get;

  const b64url = {
    encode(bytes) {
      let text = "";
      for (const b of bytes) text += String.fromCharCode(b);
      return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
    decode(text) {
      const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
      const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out.buffer;
    },
  };

  // WebAuthn's JSON form of options: every BufferSource becomes base64url, the rest is kept.
  function toJSON(value) {
    if (value instanceof ArrayBuffer) return b64url.encode(new Uint8Array(value));
    if (ArrayBuffer.isView(value)) {
      return b64url.encode(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    }
    if (Array.isArray(value)) return value.map(toJSON);
    if (value !== null && typeof value === "object") {
      const out = {};
      for (const [key, item] of Object.entries(value)) {
        if (item !== undefined) out[key] = toJSON(item);
      }
      return out;
    }
    return value;
  }

  // An object of `proto`'s interface whose IDL attributes are own, read-only data properties.
  function make(proto, fields) {
    const descriptors = {};
    for (const [key, value] of Object.entries(fields)) {
      descriptors[key] = { value, enumerable: typeof value !== "function" };
    }
    return Object.create(proto, descriptors);
  }

  // Extension outputs with their binary members (prf results) as ArrayBuffers again.
  function extensionResults(json) {
    const out = structuredClone(json || {});
    const results = out.prf && out.prf.results;
    if (results) {
      for (const key of ["first", "second"]) {
        if (typeof results[key] === "string") results[key] = b64url.decode(results[key]);
      }
    }
    return out;
  }

  function credential(json, response) {
    return make(PublicKeyCredential.prototype, {
      id: json.id,
      rawId: b64url.decode(json.rawId),
      type: json.type,
      authenticatorAttachment: json.authenticatorAttachment ?? null,
      response,
      getClientExtensionResults: () => extensionResults(json.clientExtensionResults),
      toJSON: () => structuredClone(json),
    });
  }

  function attestationCredential(json) {
    const r = json.response;
    const publicKey = r.publicKey ? b64url.decode(r.publicKey) : null;
    return credential(json, make(AuthenticatorAttestationResponse.prototype, {
      clientDataJSON: b64url.decode(r.clientDataJSON),
      attestationObject: b64url.decode(r.attestationObject),
      getTransports: () => [...(r.transports || [])],
      getAuthenticatorData: () => b64url.decode(r.authenticatorData),
      getPublicKey: () => (publicKey ? publicKey.slice(0) : null),
      getPublicKeyAlgorithm: () => r.publicKeyAlgorithm,
    }));
  }

  function assertionCredential(json) {
    const r = json.response;
    return credential(json, make(AuthenticatorAssertionResponse.prototype, {
      clientDataJSON: b64url.decode(r.clientDataJSON),
      authenticatorData: b64url.decode(r.authenticatorData),
      signature: b64url.decode(r.signature),
      userHandle: r.userHandle ? b64url.decode(r.userHandle) : null,
    }));
  }

  // `pending`, or the signal's reason once it aborts (the listener goes when `pending` settles).
  function unlessAborted(signal, pending) {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  function publicKeyOf(kind, options) {
    const publicKey = { ...options.publicKey };
    if (kind === "create" && config.attestation !== null) {
      publicKey.attestation = config.attestation;
    }
    return publicKey;
  }

  async function bridged(kind, options) {
    const signal = options.signal;
    if (signal && signal.aborted) throw signal.reason;
    const pending = window[config.binding](kind, toJSON(publicKeyOf(kind, options)));
    const answer = await (signal ? unlessAborted(signal, pending) : pending);
    if (answer.error) {
      const { name, message } = answer.error;
      throw name === "TypeError" ? new TypeError(message) : new DOMException(message, name);
    }
    return kind === "create"
      ? attestationCredential(answer.credential)
      : assertionCredential(answer.credential);
  }

  function override(kind, native) {
    return {
      [kind](options) {
        if (!options || !options.publicKey) return native.call(this, options);
        if (config.binding !== null) return bridged(kind, options);
        return native.call(this, { ...options, publicKey: publicKeyOf(kind, options) });
      },
    }[kind];
  }

  container.create = override("create", nativeCreate);
  container.get = override("get", nativeGet);
  if (config.binding !== null) {
    PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable =
      async () => config.platform;
  }
}
