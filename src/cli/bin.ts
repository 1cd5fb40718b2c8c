import { main } from './main.js';

// The `trusty` command (bin/trusty.mjs loads this); exits with the command's code once its output is written.
process.exitCode = await main(process.argv);
