/** The object-store emulators (Azurite, s3rver) the tests start: shared with `make bench`. */
export { Azurite, EmulatedStore, freePort, S3rver } from '../../bench/emulators.js';
