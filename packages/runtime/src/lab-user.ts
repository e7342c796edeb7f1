/**
 * The uid and gid every lab service runs as, never root: the image's `USER` (Dockerfile), the user the
 * container entry drops to, and the one the namespace lab starts the services as (setpriv). A test reads
 * the Dockerfile to keep them one number.
 */
export const LAB_UID = 10001;

/** `uid:gid` as docker's --user and setpriv take it. */
export const LAB_USER = `${LAB_UID}:${LAB_UID}`;
