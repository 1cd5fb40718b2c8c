/**
 * What `npm start` runs (bundled to dist/trusty.cjs): sizes libuv's thread pool, then loads
 * the server (dist/trusty.mjs). libuv reads UV_THREADPOOL_SIZE once, when the pool first
 * starts, and node's loader reads an ES module entry through that pool: so the size is set
 * here, in a CommonJS entry that node loads without it.
 */
import { availableParallelism } from 'node:os';
import { threadPoolSize } from './infrastructure/thread-pool.js';

process.env.UV_THREADPOOL_SIZE = threadPoolSize(process.env.UV_THREADPOOL_SIZE, availableParallelism());
// Resolved beside the bundle at run time, not by the bundler.
const server = './trusty.mjs';
void import(server);
