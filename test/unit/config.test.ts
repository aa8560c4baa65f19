import { ConfigError, loadConfig, publicUrl } from '../../runtime/config';

describe('configuration', () => {
  it('runs with no configuration at all', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000, TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_NAMESPACE: 'default', TASK_QUEUE: 'nurture', DATA_DIR: '.data',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.SMTP_URL).toBeUndefined();
    expect(publicUrl(config)).toBe('http://127.0.0.1:3000');
  });

  it('takes SMS credentials together, and refuses an internal SMS_BASE_URL unless SMS_ALLOWED_HOSTS names it', () => {
    const sms = { SMS_ACCOUNT_SID: 'AC0123', SMS_AUTH_TOKEN: 'token-0123456789', SMS_FROM: '+15005550006' };
    expect(loadConfig(sms).SMS_BASE_URL).toBe('https://api.twilio.com');
    expect(() => loadConfig({ SMS_ACCOUNT_SID: 'AC0123' })).toThrow(/SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM: give all three/);
    expect(() => loadConfig({ ...sms, SMS_BASE_URL: 'http://169.254.169.254' })).toThrow(/SMS_BASE_URL: .*SMS_ALLOWED_HOSTS/);
    expect(() => loadConfig({ ...sms, SMS_BASE_URL: 'http://127.0.0.1:8080' })).toThrow(/SMS_BASE_URL/);
    expect(loadConfig({ ...sms, SMS_BASE_URL: 'http://127.0.0.1:8080', SMS_ALLOWED_HOSTS: '127.0.0.1:8080' }).SMS_ALLOWED_HOSTS).toEqual(['127.0.0.1:8080']);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });

  it('names every bad variable', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', SMTP_URL: 'http://mail', TEMPORAL_ADDRESS: 'nohost' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.map((p) => p.split(':')[0]);
      expect(problems.sort()).toEqual(['DATABASE_URL', 'PORT', 'SMTP_URL', 'TEMPORAL_ADDRESS']);
    }
  });

  it.each(['JOURNEY_REVIEW_PROCESS', 'TEMPLATE_REVIEW_PROCESS'] as const)('takes a process key as %s, nothing else', (name) => {
    expect(loadConfig({ [name]: 'content-review' })[name]).toBe('content-review');
    expect(loadConfig({ [name]: '' })[name]).toBeUndefined();
    expect(() => loadConfig({ [name]: '../Review!' })).toThrow(new RegExp(name));
  });

  it("takes the owner's URL for migrations only beside the runtime role's, on the same database", () => {
    const runtime = 'postgres://nurture_app:a@db.internal:5432/nurture';
    const owner = 'postgres://nurture_owner:o@db.internal/nurture';
    expect(loadConfig({ DATABASE_URL: runtime, DATABASE_OWNER_URL: owner }).DATABASE_OWNER_URL).toBe(owner);
    expect(loadConfig({ DATABASE_URL: runtime, DATABASE_OWNER_URL: '' }).DATABASE_OWNER_URL).toBeUndefined();
    expect(() => loadConfig({ DATABASE_OWNER_URL: owner })).toThrow(/DATABASE_OWNER_URL: needs DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_URL: runtime, DATABASE_OWNER_URL: 'postgres://nurture_owner:o@db.internal/other' }))
      .toThrow(/DATABASE_OWNER_URL: must name the same server and database as DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_URL: runtime, DATABASE_OWNER_URL: 'mysql://x' })).toThrow(/DATABASE_OWNER_URL: must be a postgres/);
  });

  it('reads the request limits and whose X-Forwarded-For to believe', () => {
    expect(loadConfig({})).toMatchObject({ PUBLIC_RATE_LIMIT_PER_MINUTE: 600, AUTH_FAILURE_LIMIT_PER_MINUTE: 20, TRUST_PROXY: false });
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  describe('email', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/nurture', SIGNING_SECRET: 's'.repeat(32), WEBHOOK_SIGNING_SECRET: 'w'.repeat(16) };
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems;
      }
    };

    it('needs PUBLIC_URL when emails leave through SMTP_URL', () => {
      expect(problems({ SMTP_URL: 'smtp://mail:25' })).toEqual([expect.stringMatching(/^PUBLIC_URL: is required when SMTP_URL is set/)]);
      expect(problems({ ...production, SMTP_URL: 'smtp://mail:25' })).toEqual([expect.stringMatching(/^PUBLIC_URL:/)]);
      expect(problems({ SMTP_URL: 'smtp://mail:25', PUBLIC_URL: 'https://nurture.example.com' })).toEqual([]);
    });

    it('refuses production with neither SMTP_URL nor an explicit EMAIL_CAPTURE=true', () => {
      expect(problems(production)).toEqual([expect.stringMatching(/^SMTP_URL: is required when NODE_ENV=production \(or set EMAIL_CAPTURE=true/)]);
      expect(problems({ ...production, EMAIL_CAPTURE: 'false' })).toEqual([expect.stringMatching(/^SMTP_URL:/)]);
      expect(problems({ ...production, EMAIL_CAPTURE: 'true' })).toEqual([]);
      expect(problems({ ...production, SMTP_URL: 'smtps://mail:465', PUBLIC_URL: 'https://nurture.example.com' })).toEqual([]);
      // Development and tests capture without being asked.
      expect(problems({})).toEqual([]);
      expect(loadConfig({}).EMAIL_CAPTURE).toBe(false);
    });

    it('refuses EMAIL_CAPTURE=true beside an SMTP_URL (which would win)', () => {
      expect(problems({ SMTP_URL: 'smtp://mail:25', PUBLIC_URL: 'https://n.example.com', EMAIL_CAPTURE: 'true' }))
        .toEqual([expect.stringMatching(/^EMAIL_CAPTURE:/)]);
      expect(problems({ EMAIL_CAPTURE: 'yes' })).toEqual([expect.stringMatching(/^EMAIL_CAPTURE:/)]);
    });
  });
});
