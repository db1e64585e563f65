/**
 * The fault matrix (writer-faults.test.ts) again, every writer with a durable spool in a fresh
 * temp dir: the same answers must give the same outcomes with the spool on (issue 13).
 */
import { writerMode } from '../helpers/proxied-writes.js';

writerMode.spool = true;
await import('./writer-faults.test.js');
