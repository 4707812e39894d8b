// `listen` as swapdock takes it: host:port (an IPv6 host in brackets). Its own module so the CLI
// can read a config's address without loading the whole schema.
export const LISTEN_ADDRESS = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/;
