import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { pageSettings } from '@/lib/runtime';
import { AdminApp } from './AdminApp';
import './admin.css';

// Reads the running server's settings on each request.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Herald admin', robots: { index: false, follow: false } };

/** The admin live view; without ADMIN_TOKEN in production it does not exist. */
export default function AdminPage() {
  if ((pageSettings()?.admin ?? 'off') === 'off') notFound();
  return <AdminApp />;
}
