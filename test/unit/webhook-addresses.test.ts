import {
  internalAddressKind, isAllowedHost, normaliseHostEntry, parseHostAllowList, parseIPv6, webhookTargetRefusal,
} from '../../journey-language';
import { ConfigError, loadConfig } from '../../runtime/config';
import { checkWebhookTarget, WebhookTargetRefused } from '../../services/webhooks/transport';

/** The host as the schema and the worker see it: after WHATWG URL parsing. */
const kindOf = (url: string) => internalAddressKind(new URL(url).hostname);

describe('internal webhook targets', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data', 'metadata'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'metadata'],
    ['http://127.0.0.1:9464/metrics', 'loopback'],
    ['http://127.255.0.9/', 'loopback'],
    ['http://[::1]:5432/', 'loopback'],
    ['http://localhost:8233/', 'loopback'],
    ['http://LOCALHOST./', 'loopback'],
    ['http://api.localhost/', 'loopback'],
    ['http://0x7f000001/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:7f00:1]/', 'loopback'],
    ['http://[0:0:0:0:0:ffff:169.254.169.254]/', 'metadata'],
    ['http://[64:ff9b::10.0.0.1]/', 'private'],
    ['http://[2002:c0a8:0101::1]/', 'private'],
    ['http://10.0.0.1/', 'private'],
    ['http://172.16.5.4/', 'private'],
    ['http://172.31.255.255/', 'private'],
    ['http://192.168.1.10/', 'private'],
    ['http://[::ffff:10.1.2.3]/', 'private'],
    ['http://100.64.0.1/', 'shared'],
    ['http://100.127.255.254/', 'shared'],
    ['http://169.254.10.20/', 'link_local'],
    ['http://[fe80::1]/', 'link_local'],
    ['http://[fc00::1]/', 'unique_local'],
    ['http://[fdab:cdef::1]/', 'unique_local'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://0/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
    ['http://[::ffff:0.0.0.0]/', 'unspecified'],
    ['http://224.0.0.1/', 'reserved'],
    ['http://255.255.255.255/', 'reserved'],
    ['http://[ff02::1]/', 'reserved'],
  ])('%s is %s', (url, kind) => {
    expect(kindOf(url)).toBe(kind);
  });

  it.each([
    'https://hooks.example.com/x', 'http://8.8.8.8/', 'http://172.15.0.1/', 'http://172.32.0.1/', 'http://100.63.255.255/',
    'http://100.128.0.1/', 'http://169.253.1.1/', 'http://[2001:db8::1]/', 'http://[2606:4700::1111]/', 'http://[::ffff:8.8.8.8]/',
    'http://localhost.example.com/', 'http://notlocalhost/',
  ])('%s is not internal', (url) => {
    expect(kindOf(url)).toBeUndefined();
  });

  it('classifies addresses as DNS returns them, zone ids included', () => {
    expect(internalAddressKind('::1')).toBe('loopback');
    expect(internalAddressKind('fe80::1%eth0')).toBe('link_local');
    expect(internalAddressKind('::ffff:192.168.0.1')).toBe('private');
    expect(internalAddressKind('93.184.216.34')).toBeUndefined();
  });

  it('reads IPv6 spellings and refuses malformed ones', () => {
    expect(parseIPv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    for (const bad of ['1:2', ':1', '1::2::3', '1:2:3:4:5:6:7:8:9', '::12345', '::1.2.3', 'g::1']) expect(parseIPv6(bad)).toBeUndefined();
  });

  it('says why a URL is refused, unless the operator allowed its host', () => {
    expect(webhookTargetRefusal('http://127.0.0.1:9464/metrics')).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(webhookTargetRefusal('http://127.0.0.1:9464/metrics', ['127.0.0.1'])).toBeUndefined();
    expect(webhookTargetRefusal('http://127.0.0.1:9464/metrics', ['127.0.0.1:8080'])).toMatch(/loopback/);
    expect(webhookTargetRefusal('http://127.0.0.1:8080/', ['127.0.0.1:8080'])).toBeUndefined();
    expect(webhookTargetRefusal('http://0x7f000001/', ['127.0.0.1'])).toBeUndefined();
    expect(webhookTargetRefusal('https://hooks.example.com/')).toBeUndefined();
  });

  it('refuses a literal internal host again when the worker connects, as a permanent failure', () => {
    const refusal = (() => {
      try {
        checkWebhookTarget(new URL('http://[::ffff:a9fe:a9fe]/latest/meta-data'), { allowedHosts: [] });
      } catch (err) {
        return err;
      }
    })();
    expect(refusal).toBeInstanceOf(WebhookTargetRefused);
    expect(refusal).toMatchObject({ code: 'webhook_target_refused', message: expect.stringMatching(/cloud metadata endpoint/) });
    expect(() => checkWebhookTarget(new URL('http://127.0.0.1:1/'), { allowedHosts: ['127.0.0.1'] })).not.toThrow();
    expect(() => checkWebhookTarget(new URL('https://hooks.example.com/'), { allowedHosts: [] })).not.toThrow();
  });
});

describe('WEBHOOK_ALLOWED_HOSTS', () => {
  it('normalises entries as URLs are compared', () => {
    expect(normaliseHostEntry('Hooks.Internal')).toBe('hooks.internal');
    expect(normaliseHostEntry('hooks.internal.:80')).toBe('hooks.internal:80');
    expect(normaliseHostEntry('0x7f000001')).toBe('127.0.0.1');
    expect(normaliseHostEntry('[0::1]:8443')).toBe('[::1]:8443');
    for (const bad of ['http://x', 'x/y', 'a:b', '::1', 'x:99999', 'user@x', '']) expect(normaliseHostEntry(bad)).toBeUndefined();
  });

  it('matches a host on any port, or host:port on that port (the scheme default included)', () => {
    const allowed = parseHostAllowList(' hooks.internal , 10.0.0.5:443,[::1]:80 ').hosts;
    expect(allowed).toEqual(['hooks.internal', '10.0.0.5:443', '[::1]:80']);
    expect(isAllowedHost(new URL('http://hooks.internal:9000/'), allowed)).toBe(true);
    expect(isAllowedHost(new URL('https://10.0.0.5/'), allowed)).toBe(true);
    expect(isAllowedHost(new URL('http://10.0.0.5/'), allowed)).toBe(false);
    expect(isAllowedHost(new URL('http://[::1]/'), allowed)).toBe(true);
    expect(isAllowedHost(new URL('http://other.internal/'), allowed)).toBe(false);
  });

  it('is validated with the rest of the configuration', () => {
    expect(loadConfig({}).WEBHOOK_ALLOWED_HOSTS).toEqual([]);
    expect(loadConfig({ WEBHOOK_ALLOWED_HOSTS: 'hooks.internal,127.0.0.1:8080' }).WEBHOOK_ALLOWED_HOSTS).toEqual(['hooks.internal', '127.0.0.1:8080']);
    expect(() => loadConfig({ WEBHOOK_ALLOWED_HOSTS: 'hooks.internal,http://x/' })).toThrow(ConfigError);
    const problems = (() => {
      try {
        loadConfig({ WEBHOOK_ALLOWED_HOSTS: 'http://x/' });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    })();
    expect(problems).toEqual(['WEBHOOK_ALLOWED_HOSTS: "http://x/" is not a host or host:port']);
  });
});
