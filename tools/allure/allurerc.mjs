// Allure 3 configuration for pkconf's conformance report: one self-contained HTML file
// (singleFile), because multi-file reports render blank from file:// and a single file is what
// people attach to a ticket. Its tree is what did not pass, by decision family, then platform,
// then profile: what failed and why, with each failure's evidence, its category, and (with
// `pkconf report --history`) whether it is new or flaky. Generated with
// `allure generate <results> -o <dir> --config <this file>`.
//
// Weight: the single file embeds every result it shows, base64, five times over (the result,
// the tree and search index, each again for the "default" environment): ~8.5 KB a case, so a
// full run's 3,837 passing cases made 37 MB even with nothing attached, 138 MB with the
// attachments, and twice that with a second view. So passes stay out of this page (`filter`);
// every case, passed or not, is in pkconf's light by-profile and by-platform pages
// (pkconf/report/views.py, from results.jsonl) and in the summary. Labels that only say where
// pytest ran are hidden, and the timeline (one bar per case) is left out.
// Categories live here, not in categories.json: the Awesome report ignores the Allure-2
// results-dir file.

const NAME = "pkconf — Entra passkey registration conformance";

export default {
  name: NAME,
  // `pkconf report --history DIR`: earlier runs, so the report shows trends, new failures and
  // flaky cases (Allure 3 keeps them in one jsonl; its CLI has no flag for the path).
  historyPath: process.env.PKCONF_ALLURE_HISTORY || undefined,
  historyLimit: 20, // nightly runs kept: each adds a line and a point to every result's history
  // pytest's own bookkeeping, the same on every case: shown nowhere useful, embedded everywhere.
  hideLabels: ["host", "thread", "framework", "language", "package", "parentSuite", "suite",
               "subSuite", "tag"],
  plugins: {
    // what did not pass: epic = decision family, feature = platform, story = profile
    // (conformance/plugin.py)
    "by-family": {
      import: "@allurereport/plugin-awesome",
      options: {
        singleFile: true,
        reportLanguage: "en",
        reportName: NAME,
        groupBy: ["epic", "feature", "story"],
        // a passed case with a status message is an own-policy decision (`pkconf run --policy`)
        filter: ({ status, error }) => status !== "passed" || Boolean(error?.message),
        sections: ["charts"], // trends and status transitions across runs; no timeline
        timeline: { minDuration: Number.MAX_SAFE_INTEGER },
      },
    },
  },
  categories: [
    {
      // The emulator (or Entra) returned a different decision from the one the case expects:
      // the conformance plugin starts those assertion messages with this marker, which
      // allure-pytest prefixes with the exception type ("AssertionError: ", "Failed: ").
      name: "Entra decided differently",
      matchers: { statuses: ["failed"], message: /^(?:[\w.]+: )?DECISION MISMATCH/ },
      groupBy: [{ label: "epic" }],
    },
    {
      // `pkconf run --policy`: an admin's own policy refused a registration. The case itself
      // passed (it records, it expects nothing); its status message starts with the decision.
      name: "Own policy rejected it",
      matchers: { statuses: ["passed"], message: /^rejected / },
      groupBy: [{ label: "feature" }],
    },
    {
      // Anything else that did not pass: the harness, not the tenant, is at fault.
      name: "The harness broke",
      matchers: [{ statuses: ["broken"] }, { statuses: ["failed"] }],
    },
  ],
};
