#!/usr/bin/env node
'use strict';
// The CLI is TypeScript compiled to dist/ (npm run build): src/cli/main.ts.
require('../dist/src/cli/main.js').run();
