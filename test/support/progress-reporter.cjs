// A Jest reporter for the gate (.ci/run): keeps the file named by JEST_PROGRESS_FILE listing the test
// files running now, each as "<epoch seconds it began> <path>". Jest's own reporter names a file
// when it ends, so a file that never ends (its event loop blocked, where no testTimeout fires) is
// named nowhere; .ci/run reads this list to stop such a run and say which file it was.
const { writeFileSync } = require('node:fs');
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
  }

  write() {
    if (!this.file) return;
    const lines = [...this.running].map(([path, began]) => `${began} ${relative(this.rootDir, path)}\n`);
    writeFileSync(this.file, lines.join(''));
  }
}

module.exports = ProgressReporter;
