// A server component: rendered on the server at `next build`, with the client component below
// (and so the package) rendered there too.
import Status from './status';

export default function Page() {
  return (
    <main>
      <Status />
    </main>
  );
}
