// Sends bytes exactly as given over TCP and parses the first HTTP response, for requests
// that fetch() would normalise or refuse to send (dot segments, malformed requests).
import net from 'node:net';

export function rawRequest(port, bytes, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no complete response in time'));
    }, timeoutMs);
    const tryParse = () => {
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < end + 4 + length) return null;
      return {
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: data.subarray(end + 4, end + 4 + length).toString('utf8'),
      };
    };
    socket.on('data', (d) => {
      data = Buffer.concat([data, d]);
      const r = tryParse();
      if (r) {
        clearTimeout(timer);
        socket.destroy();
        resolve(r);
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      const r = tryParse();
      r ? resolve(r) : reject(new Error(`connection closed: ${JSON.stringify(data.toString())}`));
    });
    socket.write(bytes);
  });
}
