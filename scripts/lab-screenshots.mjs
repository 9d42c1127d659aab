// Screenshots of what a learner sees in JupyterLab, taken with a real (headless) Chromium:
//   1. `seamlab notebook` as started by `make start`: chapter 00 open, the file browser at the
//      course folder;
//   2. a failing check run in a notebook (chapter 01's check cell, against the starter);
//   3. a Lab terminal running `seamlab list`.
//
// Needs Chromium and playwright-core (neither is a course dependency):
//   apt-get install -y chromium            # or any Chromium/Chrome; set CHROMIUM=/path/to/it
//   (mkdir -p /tmp/pw && cd /tmp/pw && npm install playwright-core)
//   NODE_PATH=/tmp/pw/node_modules node scripts/lab-screenshots.mjs [OUT_DIR]
// The course services must answer (`seamlab up`). A check run here grades exercises/ and is
// recorded in .seamlab/progress.json like any other check.

import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.resolve(process.argv[2] || path.join(root, "shots"));
mkdirSync(out, { recursive: true });

const server = spawn(path.join(root, ".venv/bin/seamlab"), ["notebook", "--no-browser"], {
  cwd: root,
  detached: true, // its own process group: stopped as a whole below
  env: { ...process.env, COLUMNS: "300", NO_COLOR: "1", PATH: "/usr/bin:/bin" },
});
let log = "";
const url = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no URL from seamlab notebook:\n${log}`)), 90000);
  const read = (chunk) => {
    log += chunk;
    const found = log.match(/(http:\/\/127\.0\.0\.1:\d+\/lab\S*\?token=\w+)/);
    if (found) { clearTimeout(timer); resolve(found[1]); }
  };
  server.stdout.on("data", read);
  server.stderr.on("data", read);
  server.on("exit", (code) => reject(new Error(`seamlab notebook exited (${code}):\n${log}`)));
});

// The URL is printed before the server listens: wait until it answers.
for (let tries = 0; ; tries++) {
  try {
    const answer = await fetch(url);
    if (answer.ok) break;
  } catch {}
  if (tries > 180) throw new Error(`JupyterLab never answered at ${url}:\n${log}`);
  await new Promise((done) => setTimeout(done, 500));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  await page.goto(url);
  await page.waitForSelector(".jp-Notebook .jp-Cell", { timeout: 120000 });
  await page.waitForSelector(".jp-Notebook-ExecutionIndicator[data-status='idle']", { timeout: 120000 }).catch(() => {});
  await page.waitForTimeout(2000);
  await page.screenshot({ path: path.join(out, "01-chapter-00.png") });
  console.log("saved 01-chapter-00.png");

  // Chapter 01: run its check cell on the starter (a failing check).
  const token = new URL(url).searchParams.get("token");
  const origin = new URL(url).origin;
  await page.goto(`${origin}/lab/tree/notebooks/01-seams.ipynb?token=${token}`);
  await page.waitForSelector(".jp-Notebook .jp-Cell", { timeout: 120000 });
  const cell = page.locator(".jp-CodeCell", { hasText: 'seamlab.check("01")' }).first();
  await cell.scrollIntoViewIfNeeded();
  await cell.locator(".jp-InputArea-editor").click();
  await page.keyboard.press("Shift+Enter");
  const output = cell.locator(".jp-OutputArea-output");
  await output.filter({ hasText: "hidden tests pass" }).first().waitFor({ timeout: 180000 });
  await page.waitForTimeout(500);
  await cell.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(out, "02-failing-check.png") });
  await cell.screenshot({ path: path.join(out, "03-failing-check-cell.png") });
  console.log("saved 02-failing-check.png, 03-failing-check-cell.png");

  // A Lab terminal, as chapter 00 tells the learner to open one.
  await page.goto(`${origin}/lab?token=${token}`);
  await page.waitForSelector(".jp-LabShell", { timeout: 60000 });
  await page.locator(".lm-MenuBar-itemLabel", { hasText: "File" }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: /^New$/ }).first().hover();
  await page.locator(".lm-Menu-itemLabel", { hasText: /^Terminal$/ }).first().click();
  await page.waitForSelector(".jp-Terminal .xterm", { timeout: 60000 });
  await page.waitForTimeout(1500);
  await page.locator(".jp-Terminal .xterm").last().click();
  await page.keyboard.type("command -v seamlab && seamlab list\n");
  await page.waitForTimeout(10000);
  await page.screenshot({ path: path.join(out, "04-terminal.png") });
  console.log("saved 04-terminal.png");
} finally {
  await browser.close();
  try { process.kill(-server.pid, "SIGINT"); } catch {}
  setTimeout(() => { try { process.kill(-server.pid, "SIGKILL"); } catch {} }, 10000).unref();
}
console.log(`server log (stderr and stdout of seamlab notebook):\n${log}`);
