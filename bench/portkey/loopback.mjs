// Preloaded into the Portkey gateway (node --import ./loopback.mjs): Portkey's start-server.js listens on every
// interface and has no option to choose one, so every server this process opens is bound to 127.0.0.1 instead.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^[0-9]+$/.test(args[0]))) {
    const port = Number(args[0]);
    const callback = args.find((a) => typeof a === 'function');
    return callback ? listen.call(this, port, '127.0.0.1', callback) : listen.call(this, port, '127.0.0.1');
  }
  if (args[0] && typeof args[0] === 'object' && !Array.isArray(args[0])) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
