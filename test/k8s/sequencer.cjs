// The cluster tests are steps of one story (install, upgrade, pods killed, rollback, Prometheus):
// run their files in the order of their numbered names, not by Jest's timing heuristics.
const Sequencer = require('@jest/test-sequencer').default;

module.exports = class ByName extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => a.path.localeCompare(b.path));
  }
};
