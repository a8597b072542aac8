// Python sources are bundled as text (tsup `loader: { '.py': 'text' }`).
declare module '*.py' {
  const text: string;
  export default text;
}
