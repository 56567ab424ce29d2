import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { StoreProvider } from './StoreProvider';
import './globals.css';

export const metadata: Metadata = {
  title: 'Herald: real-time notifications',
  description: 'Push notifications from your backend to every open tab of the right user, and never lose one.',
};

export const viewport: Viewport = { themeColor: '#4f46e5' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <StoreProvider>{children}</StoreProvider>
      </body>
    </html>
  );
}
