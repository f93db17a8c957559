// Vite's `?raw` imports (the text of a file), for tests that read the shared vector files.
declare module '*?raw' {
  const text: string;
  export default text;
}
