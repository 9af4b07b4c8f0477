/**
 * Where the local head's state directory is: the rule lives in @tsserve/handle (`connect()` finds
 * the head the same way the commands do); see its `local-head.ts`.
 */
export {
  DEFAULT_STATE_DIR,
  STATE_DIR_ENV,
  findStateDir,
  projectRoot,
  stateDirForHead,
} from "@tsserve/handle/internal";
