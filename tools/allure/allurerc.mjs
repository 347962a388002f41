// Allure 3 configuration for pkconf's conformance report.
// Two views of the same results, each one self-contained HTML file (singleFile), because
// multi-file reports render blank from file:// and a single file is what people attach to a
// ticket. The awesome report's tree is computed at generate time (there is no grouping switch in
// the page), so each view is its own awesome instance; the plugin id names the view, and
// pkconf/report/html.py (VIEWS) turns <output>/<id>/index.html into the file people open.
// Categories live here, not in categories.json: the Awesome report ignores the Allure-2
// results-dir file. Generated with `allure generate <results> -o <dir> --config <this file>`.

const NAME = "pkconf — Entra passkey registration conformance";

export default {
  name: NAME,
  plugins: {
    // index.html: epic = decision family, feature = platform, story = profile (conformance/plugin.py).
    "by-family": {
      import: "@allurereport/plugin-awesome",
      options: {
        singleFile: true,
        reportLanguage: "en",
        reportName: NAME,
        groupBy: ["epic", "feature", "story"],
      },
    },
    // by-profile.html: a vendor's view, every case of one authenticator profile in one place,
    // under the families that decided them, then the platform.
    "by-profile": {
      import: "@allurereport/plugin-awesome",
      options: {
        singleFile: true,
        reportLanguage: "en",
        reportName: `${NAME} (by profile)`,
        groupBy: ["story", "epic", "feature"],
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
