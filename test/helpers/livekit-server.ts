/** The simulated LiveKit server API (src/simulate/livekit), as tests use it. */
export * from '../../src/simulate/livekit/server.ts';
