// magediag serve's page in Debian's headless Chromium, driven by Playwright: what a
// support engineer does (paste, drop files, copy, use the keyboard) gives the CLI's
// answers, secrets stay masked, and no request leaves the served origin.
//
// Run from the repository after `cargo build`: `npm ci && npm test` in tests/browser.
// MAGEDIAG_BIN names the binary (default: $CARGO_TARGET_DIR or ../../target, debug);
// CHROMIUM the browser (default /usr/bin/chromium). Screenshots go to
// tests/browser/screenshots/, and the README's one to docs/ with SCREENSHOTS_TO_DOCS=1.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const targetDir = process.env.CARGO_TARGET_DIR
  ? resolve(repo, process.env.CARGO_TARGET_DIR)
  : join(repo, "target");
const bin = process.env.MAGEDIAG_BIN || join(targetDir, "debug", "magediag");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const shots = join(here, "screenshots");

let server;
let origin;
let context;
let profile;
const requests = [];

/** What the CLI prints for `args`, with `input` on stdin, run in `cwd`. */
function cli(args, input = "", cwd = repo) {
  const run = spawnSync(bin, args, { input, cwd, env: { ...process.env, NO_COLOR: "" }, maxBuffer: 64 << 20 });
  assert.ok(run.status === 0 || run.status === 1, `magediag ${args.join(" ")}: ${run.stderr}`);
  return run.stdout.toString("utf8");
}

function sample(name) {
  return readFileSync(join(repo, "samples", name), "utf8");
}

before(async () => {
  server = spawn(bin, ["serve"], { stdio: ["ignore", "pipe", "inherit"] });
  origin = await new Promise((resolveUrl, reject) => {
    let out = "";
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolveUrl(line.trim().replace(/\/$/, ""));
    });
    server.on("exit", (code) => reject(new Error(`magediag serve exited with ${code}`)));
  });
  profile = mkdtempSync(join(tmpdir(), "magediag-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  // Every request any page makes is recorded; one to elsewhere is also stopped.
  context.on("request", (request) => requests.push(request.url()));
  await context.route("**/*", (route) =>
    route.request().url().startsWith(origin + "/") ? route.continue() : route.abort()
  );
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  if (context) await context.close();
  if (server) server.kill("SIGINT");
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function openPage(options = {}) {
  const page = await context.newPage();
  if (options.viewport) await page.setViewportSize(options.viewport);
  if (options.colorScheme) await page.emulateMedia({ colorScheme: options.colorScheme });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => m.type() === "error" && errors.push(new Error(m.text())));
  await page.goto(origin + "/");
  page.errors = errors;
  return page;
}

/** Waits until the page shows an answer (the status line counts errors). */
async function answered(page) {
  await page.waitForFunction(() =>
    /\d+ errors?, \d+ warnings? in \d+ sources?\./.test(document.getElementById("status").textContent)
  );
}

async function pasteText(page, text) {
  await page.fill("#paste", text);
  await answered(page);
}

async function clipboardAfter(page, button, what) {
  await page.click(button);
  await page.waitForFunction((w) => document.getElementById("status").textContent.startsWith(`Copied the ${w}`), what);
  return page.evaluate(() => navigator.clipboard.readText());
}

/** Drops files (name, Buffer) on the drop zone as a browser drop does. */
async function dropFiles(page, files) {
  await page.evaluate((files) => {
    const transfer = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], f.name));
    }
    const target = document.getElementById("drop");
    for (const type of ["dragover", "drop"]) {
      target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }
  }, files.map((f) => ({ name: f.name, base64: f.bytes.toString("base64") })));
  await answered(page);
}

test("a pasted sample shows its diagnosis card with the refused packages", async () => {
  const text = sample("auth-keys-rejected.log");
  const expected = JSON.parse(cli(["paste", "--format", "json"], text));
  const diagnosis = expected.sources[0].diagnoses[0];
  assert.equal(diagnosis.category, "auth-keys-rejected");
  assert.ok(diagnosis.packages.length > 1);
  const page = await openPage();
  await pasteText(page, text);
  const card = page.locator("article.card").first();
  await card.waitFor();
  assert.ok((await card.locator(".card-title").textContent()).includes(diagnosis.title));
  assert.ok((await card.locator(".why").textContent()).includes(diagnosis.summary));
  const packages = await card.locator("table.packages tbody tr td:first-child").allTextContents();
  assert.deepEqual(packages, diagnosis.packages.map((p) => p.name));
  const steps = await card.locator("ol.fix li").allTextContents();
  assert.deepEqual(steps, diagnosis.remediation);

  // An evidence line number opens the full text at that line.
  const evidence = diagnosis.evidence[0];
  await card.locator("button.line-link").first().click();
  const target = page.locator(`#L${evidence.line}`);
  await target.waitFor();
  assert.ok(await page.locator("#panel-full").isVisible());
  assert.ok(await target.evaluate((node) => node.classList.contains("target") && document.activeElement === node));
  assert.ok((await target.locator("code").textContent()).includes(evidence.text.slice(0, 40)));

  await page.screenshot({ path: join(shots, "serve-full-text.png") });
  await page.click("#tab-cards");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(shots, "serve-page.png") });
  if (process.env.SCREENSHOTS_TO_DOCS) {
    await page.screenshot({ path: join(repo, "docs", "serve-page.png") });
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("Copy as Markdown gives what `magediag paste` prints; Copy as plain text its text", async () => {
  const text = sample("dependency-conflict.log");
  const page = await openPage();
  await pasteText(page, text);
  const markdown = await clipboardAfter(page, "#copy-markdown", "Markdown");
  assert.equal(markdown, cli(["paste"], text));
  const plain = await clipboardAfter(page, "#copy-text", "plain text");
  assert.equal(plain, cli(["paste", "--format", "text", "--color", "never"], text));
  await page.close();
});

test("a dropped .gz is read decompressed, several files as scan reads them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "magediag-drop-"));
  try {
    const gz = { name: "deploy.log.gz", bytes: gzipSync(Buffer.from(sample("disk-full.log"))) };
    writeFileSync(join(dir, gz.name), gz.bytes);
    const page = await openPage();
    await dropFiles(page, [gz]);
    const expected = JSON.parse(cli(["--format", "json", gz.name], "", dir));
    const title = await page.locator("article.card .card-title").first().textContent();
    assert.ok(title.includes(expected.sources[0].diagnoses[0].title), title);
    assert.equal(
      await clipboardAfter(page, "#copy-markdown", "Markdown"),
      cli(["--format", "markdown", gz.name], "", dir)
    );

    const several = [
      gz,
      { name: "build.log", bytes: Buffer.from(sample("patch-failed.log")) },
      { name: "healthy.log", bytes: Buffer.from(sample("healthy-build.log")) },
    ];
    for (const f of several) writeFileSync(join(dir, f.name), f.bytes);
    await dropFiles(page, several);
    const names = several.map((f) => f.name).sort();
    const scan = JSON.parse(cli(["scan", "--format", "json", ...names], "", dir));
    assert.equal(await page.locator("section.source").count(), scan.sources.length);
    const titles = await page.locator("h3.source-title").allTextContents();
    assert.deepEqual(titles, scan.sources.map((s) => s.path));
    const rollup = await page.locator("section.rollup").textContent();
    const logs = scan.summary.scan.read === 1 ? "log" : "logs";
    assert.ok(rollup.includes(`Across ${scan.summary.scan.read} ${logs}`), rollup);
    for (const cause of scan.summary.scan.causes) assert.ok(rollup.includes(cause.category), rollup);
    assert.equal(
      await clipboardAfter(page, "#copy-markdown", "Markdown"),
      cli(["scan", "--format", "markdown", ...names], "", dir)
    );
    await page.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an oversized paste says so", async () => {
  const page = await openPage();
  // 21 MiB in lines of 1 KiB (a text box lays a million short lines out slowly).
  await page.evaluate((n) => {
    const box = document.getElementById("paste");
    box.value = ("ERROR: padding " + "x".repeat(1008) + "\n").repeat(n);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }, 21 << 10);
  const error = page.locator("#error");
  await error.waitFor({ state: "visible", timeout: 120_000 });
  assert.match(await error.textContent(), /larger than 20 MiB/);
  // A paste within the limit clears it.
  await pasteText(page, sample("patch-failed.log"));
  assert.ok(await error.isHidden());
  await page.close();
});

test("secrets are masked in everything shown and copied", async () => {
  const key = "0123456789abcdef0123456789abcdef";
  const password = "s3cr3tPassw0rdValue";
  const text = [
    `composer config --global http-basic.repo.magento.com ${key} ${password}`,
    `COMPOSER_AUTH={"http-basic":{"repo.magento.com":{"username":"${key}","password":"${password}"}}}`,
    `W:   - Downloading magento/module-sales (102.0.5.0-patch2)`,
    `W: The 'https://user:${password}@repo.magento.com/archives/magento/module-sales/magento-module-sales-102.0.5.0-patch2.zip' URL could not be accessed: HTTP/1.1 403 Forbidden`,
    "",
  ].join("\n");
  const page = await openPage();
  await pasteText(page, text);
  for (const tab of ["#tab-read", "#tab-full", "#tab-cards"]) {
    await page.click(tab);
    const shown = await page.evaluate(() => document.body.textContent);
    assert.ok(!shown.includes(password) && !shown.includes(key), `${tab} shows a secret`);
    assert.ok(shown.includes("****"), `${tab} shows no mask`);
  }
  for (const [button, what] of [["#copy-markdown", "Markdown"], ["#copy-text", "plain text"]]) {
    const copied = await clipboardAfter(page, button, what);
    assert.ok(!copied.includes(password) && !copied.includes(key), `${what} holds a secret`);
  }
  await page.close();
});

test("it can be used with the keyboard alone, with visible focus", async () => {
  const text = sample("auth-keys-rejected.log");
  const page = await openPage();
  const focusedId = () => page.evaluate(() => document.activeElement && document.activeElement.id);
  const outline = () => page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  // Skip link first, then the paste box.
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.equal(await focusedId(), "paste");
  await page.keyboard.insertText(text);
  await page.keyboard.press("Control+Enter");
  await answered(page);
  let presses = 0;
  while ((await focusedId()) !== "copy-markdown" && presses++ < 10) await page.keyboard.press("Tab");
  assert.equal(await focusedId(), "copy-markdown");
  assert.notEqual(await outline(), "none");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Copied the Markdown"));
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), cli(["paste"], text));
  // On to the tabs: the arrow keys move between views.
  while ((await focusedId()) !== "tab-cards" && presses++ < 20) await page.keyboard.press("Tab");
  assert.equal(await focusedId(), "tab-cards");
  await page.keyboard.press("ArrowRight");
  assert.equal(await focusedId(), "tab-read");
  assert.ok(await page.locator("#panel-read").isVisible());
  await page.keyboard.press("ArrowLeft");
  // Then into the card: the first evidence line opens the full text.
  while (!(await page.evaluate(() => document.activeElement.classList.contains("line-link"))) && presses++ < 40) {
    await page.keyboard.press("Tab");
  }
  assert.notEqual(await outline(), "none");
  await page.keyboard.press("Enter");
  assert.ok(await page.locator("#panel-full").isVisible());
  assert.ok(await page.evaluate(() => document.activeElement.classList.contains("target")));
  await page.close();
});

test("readable in a narrow window and in the dark theme", async () => {
  const page = await openPage({ viewport: { width: 420, height: 900 }, colorScheme: "dark" });
  await pasteText(page, sample("auth-keys-rejected.log"));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the window`);
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(background, "rgb(247, 247, 248)", "the dark theme is not applied");
  await page.screenshot({ path: join(shots, "serve-narrow-dark.png"), fullPage: true });
  await page.close();
});

test("nothing found shows the likeliest lines, the closest rules and what to paste", async () => {
  const text = "Downloading acme/module-x (1.0.0)\nThe 'https://packages.acme.example/archives/acme/module-x/acme-module-x-1.0.0.zip' URL could not be accessed: HTTP/1.1 418 teapot\nsomething odd: could not frobnicate the widget\n";
  const expected = JSON.parse(cli(["paste", "--format", "json"], text));
  assert.equal(expected.summary.diagnoses, 0);
  const page = await openPage();
  await pasteText(page, text);
  const nothing = page.locator(".nothing");
  await nothing.waitFor();
  const shown = await nothing.textContent();
  assert.ok(shown.includes("No known failure found"), shown);
  assert.ok(expected.sources[0].hints.length > 0);
  for (const hint of expected.sources[0].hints) assert.ok(shown.includes(hint.text), shown);
  assert.ok(await nothing.locator("ul.near > li").count() > 0, shown);
  assert.ok(shown.includes("Composer output above the error"), shown);
  await page.close();
});

test("no request left the served origin", () => {
  assert.ok(requests.length > 0);
  const elsewhere = requests.filter((url) => !url.startsWith(origin + "/"));
  assert.deepEqual(elsewhere, []);
});
