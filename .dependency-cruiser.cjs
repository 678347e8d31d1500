/**
 * The layers of src/ (docs/ARCHITECTURE.md "Layers"), checked by test/architecture/layers.test.ts
 * (so `npm test` fails on a violation) and by `npm run lint:deps`.
 *
 *   model         events, commands, value types, errors, envelope, canonical JSON, read shapes: imports nothing of ours
 *   hardware      the emulated hardware of one host: model only
 *   domain        the decider: model only; it reads the hardware through the port it declares (domain/hardware-port.ts)
 *   composition   injects the hardware into the decider's state: model, domain, hardware
 *   store, messaging, replay, projections   infrastructure: the layers below, never application or transports
 *   application   handlers and the write/read paths: everything above, never a transport
 *   api/rest, api/grpc, auth, cli   transports and their guard, on top; REST and gRPC are peers
 *
 * Type-only imports count (tsPreCompilationDeps): a layer may not even name a type of a layer it must not know.
 */
const INFRASTRUCTURE = '^src/(store|messaging|replay|projections)/';
const TRANSPORTS = '^src/(api|auth|cli)/|^src/(app\\.module|app\\.factory|main|migrate)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle anywhere in src/, type-only imports included.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'model-is-a-leaf',
      severity: 'error',
      comment: 'src/model imports nothing of the project (npm packages and node: built-ins only).',
      from: { path: '^src/model/' },
      to: { path: '^src/', pathNot: '^src/model/' },
    },
    {
      name: 'hardware-on-model-only',
      severity: 'error',
      comment: 'The emulated hardware applies events; it knows the model and nothing else of ours.',
      from: { path: '^src/hardware/' },
      to: { path: '^src/', pathNot: '^src/(hardware|model)/' },
    },
    {
      name: 'domain-on-model-only',
      severity: 'error',
      comment: 'The decider knows the model and reads the hardware through the port it declares (src/domain/hardware-port.ts), never src/hardware.',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/(domain|model)/' },
    },
    {
      name: 'composition-on-core-only',
      severity: 'error',
      comment: 'src/composition only puts the hardware behind the decider.',
      from: { path: '^src/composition/' },
      to: { path: '^src/', pathNot: '^src/(composition|domain|hardware|model)/' },
    },
    {
      name: 'core-not-on-outer-layers',
      severity: 'error',
      comment: 'model, hardware, domain and composition never reach up into infrastructure, application or transports.',
      from: { path: '^src/(model|hardware|domain|composition)/' },
      to: { path: `${INFRASTRUCTURE}|^src/application/|${TRANSPORTS}|^src/(config|observability)` },
    },
    {
      name: 'infrastructure-not-on-application',
      severity: 'error',
      comment: 'Store, messaging, replay and projections serve the application; they never import it or a transport.',
      from: { path: INFRASTRUCTURE },
      to: { path: `^src/application/|${TRANSPORTS}` },
    },
    {
      name: 'application-not-on-transports',
      severity: 'error',
      comment: 'The application knows no transport: REST, gRPC, auth and the CLI sit on top of it.',
      from: { path: '^src/application/' },
      to: { path: TRANSPORTS },
    },
    {
      name: 'rest-and-grpc-are-peers',
      severity: 'error',
      comment: 'src/api/rest and src/api/grpc never import each other; what they share lives in a module of its own under src/api/.',
      from: { path: '^src/api/(rest|grpc)/' },
      to: { path: '^src/api/(rest|grpc)/', pathNot: '^src/api/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
