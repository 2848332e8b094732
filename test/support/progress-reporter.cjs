// A Jest reporter for the gate (.ci/run): keeps the file named by JEST_PROGRESS_FILE listing the test
// files running now, each as "<epoch seconds it began> <path>", and JEST_PROGRESS_FILE.ended holding
// the last file to end, as "<epoch seconds it ended> <path>". Jest's own reporter names a file
// when it ends, so a file that never ends (its event loop blocked, where no testTimeout fires) is
// named nowhere; .ci/run reads these to stop such a run, or a Jest that does not exit after its
// last file, and say where it was.
const { renameSync, writeFileSync } = require('node:fs');
const { relative } = require('node:path');

class ProgressReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.file = process.env.JEST_PROGRESS_FILE;
    this.running = new Map();
  }

  onTestFileStart(test) {
    this.running.set(test.path, Math.floor(Date.now() / 1000));
    this.write();
  }

  onTestFileResult(test) {
    this.running.delete(test.path);
    this.write();
    if (this.file) replace(`${this.file}.ended`, `${Math.floor(Date.now() / 1000)} ${relative(this.rootDir, test.path)}\n`);
  }

  write() {
    if (!this.file) return;
    const lines = [...this.running].map(([path, began]) => `${began} ${relative(this.rootDir, path)}\n`);
    replace(this.file, lines.join(''));
  }
}

/** Written beside and renamed over, so that .ci/run never reads a half-written line. */
function replace(file, text) {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

module.exports = ProgressReporter;
