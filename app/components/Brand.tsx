import { Icon } from './Icon';

/** The top bar's heading: the bell and "Herald", with a tag after it where the page has one (the admin view's). */
export function Brand({ tag }: { tag?: string }) {
  return (
    <h1 className="brand">
      <span className="logo" aria-hidden="true">
        <Icon name="bell" size={18} />
      </span>
      <span className="brand-name">Herald</span>
      {tag !== undefined && <span className="admin-tag">{tag}</span>}
    </h1>
  );
}
