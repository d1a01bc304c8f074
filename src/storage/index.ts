// Object storage: results to a bucket from the remote machine, inputs cached there by ETag, `pull` home.
export { type AccessOptions, resolveStorageAccess, type StorageAccess } from "./access.js";
export {
  INPUTS_CACHE_DIR,
  type InputEntry,
  type InputsPlan,
  planInputs,
  resolveInputDest,
} from "./inputs-plan.js";
export { createPresigner, type Presign, type PresignRequest } from "./presign.js";
export { type PulledObject, pullObjects, pullResults, type StoredResults } from "./pull.js";
export {
  buildFetchInputsScript,
  buildListedStatScript,
  buildUploadScript,
  NO_PYTHON_EXIT,
} from "./scripts.js";
export { type FileStat, parseFileStats, splitListedStats } from "./stat-program.js";
export {
  parseTransferReport,
  type TransferReport,
  type UploadedObject,
} from "./transfer-events.js";
export {
  createMultipartUpload,
  DEFAULT_PART_SIZE,
  planResultsUpload,
  type ResultFile,
  type UploadPlan,
} from "./upload-plan.js";
export {
  type BucketUrl,
  formatObjectUrl,
  parseBucketUrl,
  parseObjectUrl,
  resultKey,
} from "./url.js";
