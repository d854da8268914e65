// Validated data files (scenarios, playbooks, profiles, the site file): every problem is a
// ConfigError naming the file, the path in it and the line. Other folders that ship data
// files of their own (the simulators' scenarios) read them the same way.

export { ConfigError, type ConfigProblem } from '../config/load.js';
export { parseDataFile } from '../files/data-file.js';
export { projectPath } from '../files/paths.js';
