// Worker entry: register the TypeScript loader in this thread, then run the worker source.
import { register } from 'tsx/esm/api';

register();
await import('./batch-worker.ts');
