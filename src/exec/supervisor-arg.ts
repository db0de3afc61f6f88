// The argument that makes a Node process the slim supervisor of --supervise (src/exec/handover.ts).
// A module of its own: bin.ts reads it before anything else loads (src/watch/resident.ts).
export const SUPERVISOR_ARG = "--secretwrap-supervisor";
