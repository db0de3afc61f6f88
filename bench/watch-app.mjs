// The app of the watch bench (bench/scenarios/watch-resident.ts): a process that sleeps, says
// `ready <pid> <ppid>` (its parent is secretwrap's own process, whose memory the bench samples) and
// counts the SIGHUPs secretwrap sends it when a file target changed (`hup <n>`). Plain JavaScript.
let hups = 0;
process.on("SIGHUP", () => process.stdout.write(`hup ${++hups}\n`));
process.stdout.write(`ready ${process.pid} ${process.ppid}\n`);
setInterval(() => {}, 1 << 30);
