import { z } from 'zod';

// zod compiles parsers with new Function when it may; the console's Content-Security-Policy (no 'unsafe-eval')
// forbids that, so zod is told before any schema exists instead of finding out through a CSP violation.
z.config({ jitless: true });
